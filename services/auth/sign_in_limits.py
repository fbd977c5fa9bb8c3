"""How many sign-in e-mails one recipient, and one caller's network address, may cause an hour.

Anybody may ask for a sign-in link, for any address, without a session. Unlimited, that lets
one caller flood a person's inbox and spend the e-mail provider's day (every sign-in link,
alert and digest after it would be refused). So each request first claims one use of two
allowances, counted exactly across instances: the recipient's (its normalised address,
hashed) and the caller's network address's. The address is checked before anything about
an account is looked at, and the same answer is given whether or not the address has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.resilience.allowance import Allowance, Allowances, Claim, Taken
from services.settings import Settings

PER_RECIPIENT = "sign_in_emails_per_recipient"
PER_CLIENT = "sign_in_emails_per_client"


@dataclass(frozen=True)
class SignInEmailLimits:
    allowances: Allowances
    per_recipient: Allowance
    per_client: Allowance

    @classmethod
    def of(cls, allowances: Allowances, settings: Settings) -> SignInEmailLimits:
        return cls(
            allowances,
            Allowance(
                PER_RECIPIENT,
                settings.sign_in_emails_per_recipient_per_hour,
                "sign-in e-mails to this address",
            ),
            Allowance(
                PER_CLIENT,
                settings.sign_in_emails_per_client_per_hour,
                "sign-in e-mails asked for from your network address",
            ),
        )

    def take(self, recipient: str, client_address: str) -> Taken:
        """One use of both, or `AllowanceExceededError`. The caller's address first: a
        caller past its own limit never touches the recipient's count."""
        return self.allowances.take(
            [Claim(self.per_client, client_address), Claim(self.per_recipient, recipient)]
        )

    def give_back(self, taken: Taken) -> None:
        """The e-mail was not sent after all (the provider was never asked)."""
        self.allowances.give_back(taken)

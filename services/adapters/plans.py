"""What each provider's plan allows: the endpoints a key may call and the limits it runs under.

The plan is configuration (`TIINGO_PLAN`, `FINNHUB_PLAN`, `SENDGRID_PLAN`: `free` or `paid`),
read by the adapters, the quotas and, on the embedded stack, the emulators alike. The free
plans' figures are the providers' published ones:

- Tiingo: end-of-day and IEX prices on every plan; news is a premium feature (a free key is
  answered 403). Free: 50 requests an hour, 1,000 a day, 500 distinct symbols a month.
- Finnhub: company news on every plan; news sentiment and candles are premium. Free: 60
  calls a minute and 30 a second.
- SendGrid: mail/send on every plan. Free (the trial): 100 e-mails a day.

The paid plans' limits differ by subscription, so they are settings (`*_PAID_*`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from services.settings import Plan, QuotaPeriod, Settings

Endpoint = Literal[
    "news",
    "daily_prices",
    "intraday_prices",
    "company_news",
    "news_sentiment",
    "candles",
    "mail_send",
]
ENDPOINTS: dict[str, tuple[Endpoint, ...]] = {
    "tiingo": ("news", "daily_prices", "intraday_prices"),
    "finnhub": ("company_news", "news_sentiment", "candles"),
    "sendgrid": ("mail_send",),
}
PREMIUM: dict[str, frozenset[Endpoint]] = {
    "tiingo": frozenset({"news"}),
    "finnhub": frozenset({"news_sentiment", "candles"}),
    "sendgrid": frozenset(),
}


@dataclass(frozen=True, slots=True)
class PlanLimit:
    """At most `limit` requests (or distinct symbols) per UTC `period`."""

    period: QuotaPeriod
    limit: int
    counts: Literal["requests", "symbols"] = "requests"

    @property
    def name(self) -> str:
        return f"{self.counts}_per_{self.period}"


@dataclass(frozen=True, slots=True)
class ProviderPlan:
    provider: str
    plan: Plan
    limits: tuple[PlanLimit, ...]

    def allows(self, endpoint: Endpoint) -> bool:
        return self.plan == "paid" or endpoint not in PREMIUM[self.provider]

    @property
    def endpoints(self) -> tuple[Endpoint, ...]:
        return tuple(e for e in ENDPOINTS[self.provider] if self.allows(e))

    @property
    def premium_refused(self) -> tuple[Endpoint, ...]:
        """The premium endpoints this plan does not include."""
        return tuple(e for e in ENDPOINTS[self.provider] if not self.allows(e))


def provider_plans(settings: Settings) -> dict[str, ProviderPlan]:
    """Every provider's plan as the settings describe it."""
    tiingo: tuple[PlanLimit, ...] = (
        (PlanLimit("hour", 50), PlanLimit("day", 1_000), PlanLimit("month", 500, "symbols"))
        if settings.tiingo_plan == "free"
        else (
            PlanLimit("hour", settings.tiingo_paid_hourly_limit),
            PlanLimit("day", settings.tiingo_paid_daily_limit),
            *(
                (PlanLimit("month", settings.tiingo_paid_monthly_symbols, "symbols"),)
                if settings.tiingo_paid_monthly_symbols
                else ()
            ),
        )
    )
    finnhub = (
        (PlanLimit("second", 30), PlanLimit("minute", 60))
        if settings.finnhub_plan == "free"
        else (
            PlanLimit("second", settings.finnhub_paid_per_second),
            PlanLimit("minute", settings.finnhub_paid_per_minute),
        )
    )
    sendgrid = (
        PlanLimit(
            "day", 100 if settings.sendgrid_plan == "free" else settings.sendgrid_paid_daily_limit
        ),
    )
    return {
        "tiingo": ProviderPlan("tiingo", settings.tiingo_plan, tiingo),
        "finnhub": ProviderPlan("finnhub", settings.finnhub_plan, finnhub),
        "sendgrid": ProviderPlan("sendgrid", settings.sendgrid_plan, sendgrid),
    }

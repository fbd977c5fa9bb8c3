"""Signing in to a full account by e-mail address, converting the caller's anonymous data.

Used by every journey that proves an address (magic link, OAuth). When the caller also holds
an anonymous session, what they built anonymously follows them:

- no account has the address yet: the anonymous user *becomes* the account (upgraded in
  place), so its configurations, alerts and ids stay as they are;
- an account exists: the anonymous user's live configurations move into it, as many as the
  account's limit allows; the report says how many moved and how many could not. (Alert
  rules belong to a user id and stay with the anonymous user.)

Either way the anonymous session is revoked: its bearer must not outlive the conversion, and
the caller continues with the session returned here.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from typing import Literal

from services.auth.sessions import IssuedSession, Principal, limits_for, open_session
from services.clock import Clock
from services.settings import Settings
from services.store.configurations import ConfigurationRepository
from services.store.errors import ConflictError, LimitReachedError, NotFoundError
from services.store.models import AuthType, User
from services.store.sessions import SessionRepository
from services.store.users import UserRepository

LOG = logging.getLogger(__name__)
MergeMode = Literal["none", "upgraded", "moved"]
# A concurrent change of the anonymous profile (e.g. a configuration created meanwhile) makes
# the optimistic upgrade fail; it is re-read and retried this many times.
_UPGRADE_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class MergeReport:
    mode: MergeMode
    from_user_id: str | None = None
    configurations_moved: int = 0
    configurations_not_moved: int = 0


@dataclass(frozen=True, slots=True)
class SignIn:
    issued: IssuedSession
    merge: MergeReport
    created: bool  # True when this sign-in made the account


@dataclass(frozen=True)
class AccountSignIn:
    users: UserRepository
    sessions: SessionRepository
    configs: ConfigurationRepository
    settings: Settings
    clock: Clock

    def sign_in(self, email: str, auth_type: AuthType, caller: Principal | None) -> SignIn:
        """Open a session on the account of `email` (created if new), as `auth_type`."""
        address = email.strip().lower()
        guest = caller if caller is not None and caller.user.auth_type == "anonymous" else None
        account = self.users.find_by_email(address)
        if account is None and guest is not None:
            upgraded = self._upgrade(guest, auth_type, address)
            if upgraded is not None:
                kept = len(self.configs.list_for_user(upgraded.user_id))
                self._retire(guest)
                report = MergeReport("upgraded", guest.user.user_id, kept, 0)
                return SignIn(self._open(upgraded, auth_type), report, created=True)
            # Someone else claimed the address meanwhile: merge into that account below.
            account = self.users.find_by_email(address)
        created = False
        if account is None:
            account, created = self._create(address, auth_type)
        report = self._move(guest, account) if guest is not None else MergeReport("none")
        return SignIn(self._open(account, auth_type), report, created=created)

    def _open(self, user: User, auth_type: AuthType) -> IssuedSession:
        # The session records how this sign-in was proven, whatever the account first used.
        return open_session(
            replace(user, auth_type=auth_type), self.sessions, self.settings, self.clock
        )

    def _upgrade(self, guest: Principal, auth_type: AuthType, address: str) -> User | None:
        """The upgraded user, or None when the address was claimed by another user first."""
        user = guest.user
        for _ in range(_UPGRADE_ATTEMPTS):
            try:
                return self.users.upgrade(user, auth_type=auth_type, email=address)
            except ConflictError:
                if self.users.find_by_email(address) is not None:
                    return None
                user = self.users.get(user.user_id)
                if user.auth_type != "anonymous":
                    return None
        raise ConflictError(f"user {user.user_id} kept changing during sign-in")

    def _create(self, address: str, auth_type: AuthType) -> tuple[User, bool]:
        user = User(
            user_id=str(uuid.uuid4()), auth_type=auth_type, created_at=self.clock(), email=address
        )
        try:
            return self.users.create(user), True
        except ConflictError:
            # Two first sign-ins for one address raced; the e-mail claim picked the winner.
            winner = self.users.find_by_email(address)
            if winner is None:
                raise
            return winner, False

    def _move(self, guest: Principal, account: User) -> MergeReport:
        if guest.user.user_id == account.user_id:
            return MergeReport("none")
        limit = limits_for(account, self.settings).max_configurations
        moved = not_moved = 0
        now = self.clock()
        for config in self.configs.list_for_user(guest.user.user_id):
            try:
                self.configs.transfer(config, account.user_id, max_allowed=limit, now=now)
                moved += 1
            except (LimitReachedError, ConflictError):
                not_moved += 1
        self._retire(guest)
        return MergeReport("moved", guest.user.user_id, moved, not_moved)

    def _retire(self, guest: Principal) -> None:
        try:
            self.sessions.revoke(guest.session, self.clock())
        except NotFoundError:
            LOG.info("anonymous session %s was already revoked", guest.session.session_id)

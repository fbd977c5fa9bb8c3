"""One run of the notification function: the daily digest queued when asked, the outbox's
due e-mails delivered, then a batch of expired anonymous users retired."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from services.adapters.email import EmailSender
from services.auth.anonymous_cleanup import retire_expired_anonymous_users
from services.clock import Clock, utc_now
from services.market.sentiment_view import BucketReader
from services.notifications.deliver import DeliveryPolicy, deliver_due
from services.notifications.digest import queue_digests
from services.observability import get_logger
from services.resilience.guard import CallGuard
from services.settings import Settings
from services.store.anonymous_users import AnonymousUserStore
from services.store.configurations import ConfigurationRepository
from services.store.outbox import DynamoOutbox
from services.store.preferences import DynamoPreferenceRepository
from services.store.users import UserRepository

LOGGER = get_logger("notification")


@dataclass(frozen=True)
class NotificationDependencies:
    settings: Settings
    outbox: DynamoOutbox
    sender: EmailSender
    guard: CallGuard
    users: UserRepository
    configurations: ConfigurationRepository
    preferences: DynamoPreferenceRepository
    sentiment: BucketReader
    policy: DeliveryPolicy
    clock: Clock = utc_now
    # Anonymous users past their expiry, retired a batch per invocation (None: not here).
    anonymous_users: AnonymousUserStore | None = None


def run_notifications(deps: NotificationDependencies, *, digest: bool) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if digest:
        queued = queue_digests(
            accounts=deps.users,
            configurations=deps.configurations,
            preferences=deps.preferences,
            sentiment=deps.sentiment,
            outbox=deps.outbox,
            settings=deps.settings,
            clock=deps.clock,
        )
        result["digest"] = asdict(queued)
        LOGGER.info("digest queued", extra=result["digest"])
    delivered = deliver_due(
        outbox=deps.outbox,
        sender=deps.sender,
        guard=deps.guard,
        clock=deps.clock,
        policy=deps.policy,
    )
    result["delivery"] = asdict(delivered)
    if delivered.due:
        LOGGER.info("outbox delivery", extra=result["delivery"])
    if deps.anonymous_users is not None:
        # After delivery, so e-mail never waits for housekeeping.
        cleanup = retire_expired_anonymous_users(
            deps.anonymous_users, deps.clock, limit=deps.settings.anonymous_cleanup_batch
        )
        if cleanup.due:
            result["anonymous_cleanup"] = asdict(cleanup)
            LOGGER.info("expired anonymous users retired", extra=result["anonymous_cleanup"])
    return result

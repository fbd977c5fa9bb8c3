"""The notification function: delivers the outbox, and queues the daily digest.

Invoked by two schedules: every minute (deliver what is due) and once a day (queue each
account's digest, then deliver). An event `{"action": "digest"}` or a scheduled event from
a rule whose name contains "digest" means the second. Every run then retires a batch of the
anonymous users past their expiry (`services.auth.anonymous_cleanup`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from services.adapters.email import EmailSender
from services.auth.anonymous_cleanup import retire_expired_anonymous_users
from services.clock import Clock, utc_now
from services.composition import delivery_policy, email_sender, outbox, resilient_guard
from services.market.sentiment_view import BucketReader
from services.notifications.deliver import DeliveryPolicy, deliver_due
from services.notifications.digest import queue_digests
from services.observability import get_logger
from services.resilience.guard import CallGuard
from services.settings import Settings, get_settings
from services.store.anonymous_users import AnonymousUserStore, DynamoAnonymousUserStore
from services.store.configurations import DynamoConfigurationRepository
from services.store.outbox import DynamoOutbox
from services.store.preferences import DynamoPreferenceRepository
from services.store.sentiment import DynamoSentimentStore
from services.store.table import dynamodb_table
from services.store.users import DynamoUserRepository

LOGGER = get_logger("notification")


@dataclass(frozen=True)
class NotificationDependencies:
    settings: Settings
    outbox: DynamoOutbox
    sender: EmailSender
    guard: CallGuard
    users: DynamoUserRepository
    configurations: DynamoConfigurationRepository
    preferences: DynamoPreferenceRepository
    sentiment: BucketReader
    policy: DeliveryPolicy
    clock: Clock = utc_now
    # Anonymous users past their expiry, retired a batch per invocation (None: not here).
    anonymous_users: AnonymousUserStore | None = None


@cache
def _default() -> NotificationDependencies:
    settings = get_settings()
    table = dynamodb_table(settings)
    return notification_dependencies(settings, table, resilient_guard(settings, table))


def notification_dependencies(
    settings: Settings, table: Any, guard: CallGuard, clock: Clock = utc_now
) -> NotificationDependencies:
    return NotificationDependencies(
        settings=settings,
        outbox=outbox(settings, table),
        sender=email_sender(settings),
        guard=guard,
        users=DynamoUserRepository(table),
        configurations=DynamoConfigurationRepository(table),
        preferences=DynamoPreferenceRepository(table),
        sentiment=DynamoSentimentStore(table),
        policy=delivery_policy(settings),
        clock=clock,
        anonymous_users=DynamoAnonymousUserStore(table),
    )


def wants_digest(event: dict[str, Any]) -> bool:
    if event.get("action") == "digest":
        return True
    return any("digest" in str(resource) for resource in event.get("resources") or [])


def handler(
    event: dict[str, Any], context: Any, deps: NotificationDependencies | None = None
) -> dict[str, Any]:
    deps = deps or _default()
    result: dict[str, Any] = {}
    if wants_digest(event):
        digest = queue_digests(
            accounts=deps.users,
            configurations=deps.configurations,
            preferences=deps.preferences,
            sentiment=deps.sentiment,
            outbox=deps.outbox,
            settings=deps.settings,
            clock=deps.clock,
        )
        result["digest"] = asdict(digest)
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

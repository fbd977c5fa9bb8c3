"""The notification function: delivers the outbox, and queues the daily digest.

Invoked by two schedules: every minute (deliver what is due) and once a day (queue each
account's digest, then deliver). An event `{"action": "digest"}` or a scheduled event from
a rule whose name contains "digest" means the second.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from services.adapters.email import EmailSender
from services.clock import Clock, utc_now
from services.composition import delivery_policy, email_sender, outbox, resilient_guard
from services.market.sentiment_view import BucketReader
from services.notifications.deliver import DeliveryPolicy, deliver_due
from services.notifications.digest import queue_digests
from services.observability import get_logger
from services.resilience.guard import CallGuard
from services.settings import Settings, get_settings
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
    return result

"""The notification function's collaborators: the outbox, SendGrid behind its guard, and
what the digest reads."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING

from services.clock import Clock, utc_now
from services.composition.providers import email_sender
from services.composition.resilience import table_guard
from services.composition.stores import outbox
from services.notifications.deliver import DeliveryPolicy
from services.notifications.run import NotificationDependencies
from services.resilience.guard import CallGuard
from services.settings import Settings, get_settings
from services.store.anonymous_users import DynamoAnonymousUserStore
from services.store.configurations import DynamoConfigurationRepository
from services.store.preferences import DynamoPreferenceRepository
from services.store.sentiment import DynamoSentimentStore
from services.store.table import dynamodb_table
from services.store.users import DynamoUserRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        retry_base=timedelta(seconds=settings.email_retry_base_s),
        retry_max=timedelta(seconds=settings.email_retry_max_s),
        lease=timedelta(seconds=settings.email_send_lease_s),
    )


def notification_dependencies(
    settings: Settings, table: Table, guard: CallGuard, clock: Clock = utc_now
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


@cache
def deployed_notification() -> NotificationDependencies:
    """The Lambda function's collaborators, built on its first invocation."""
    settings = get_settings()
    table = dynamodb_table(settings)
    return notification_dependencies(settings, table, table_guard(settings, table))

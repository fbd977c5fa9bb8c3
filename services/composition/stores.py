"""The DynamoDB repositories the functions share, over the single table."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from services.settings import Settings
from services.store.outbox import DynamoOutbox

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


def outbox(settings: Settings, table: Table) -> DynamoOutbox:
    return DynamoOutbox(table, keep_history=timedelta(seconds=settings.email_history_ttl_s))

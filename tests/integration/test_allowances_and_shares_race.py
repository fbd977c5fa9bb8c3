"""Instances racing on DynamoDB Local for the last uses: a per-caller allowance and a quota's
share are never passed, however many instances ask at once (each thread is an instance with
its own client, tracker and allowances)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from services.clock import utc_now
from services.local.dynamodb_local import DynamoDBLocal
from services.resilience.allowance import (
    Allowance,
    AllowanceExceededError,
    Allowances,
    Claim,
)
from services.resilience.quota import QuotaExhaustedError, QuotaLimit, QuotaPolicy, QuotaTracker
from services.settings import Settings
from services.store.allowances import DynamoAllowanceStore
from services.store.quotas import DynamoQuotaStore
from services.store.table import dynamodb_table

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

INSTANCES = 4
ATTEMPTS = 10


def race(attempt: Callable[[int], Callable[[], bool]]) -> int:
    """Every instance makes ATTEMPTS at once; how many succeeded in all."""
    succeeded: list[int] = []
    start = threading.Barrier(INSTANCES)

    def instance(n: int) -> None:
        once = attempt(n)
        start.wait()
        succeeded.append(sum(once() for _ in range(ATTEMPTS)))

    threads = [threading.Thread(target=instance, args=(n,)) for n in range(INSTANCES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sum(succeeded)


def table_of(dynamodb_local: DynamoDBLocal, fresh_table: Any) -> Any:
    """A table resource of its own (boto3 resources are not shared between threads)."""
    settings = Settings(dynamodb_endpoint=dynamodb_local.endpoint, table_name=fresh_table.name)
    return dynamodb_table(settings)


def test_an_allowance_is_never_passed_by_instances_racing(dynamodb_local, fresh_table) -> None:
    allowance = Allowance("emails_per_recipient", 5, "e-mails to this address")

    def attempt(_: int) -> Callable[[], bool]:
        allowances = Allowances(
            DynamoAllowanceStore(table_of(dynamodb_local, fresh_table)), utc_now
        )

        def once() -> bool:
            try:
                allowances.take([Claim(allowance, "victim@example.com")])
            except AllowanceExceededError:
                return False
            return True

        return once

    assert race(attempt) == 5


def test_a_share_is_never_passed_by_instances_racing(dynamodb_local, fresh_table) -> None:
    def attempt(_: int) -> Callable[[], bool]:
        quotas = QuotaTracker(
            {"sendgrid": QuotaLimit(100, "day")},
            DynamoQuotaStore(table_of(dynamodb_local, fresh_table)),
            utc_now,
            QuotaPolicy(),
            {"sendgrid": {"sign_in": 0.1}},
        )

        def once() -> bool:
            try:
                quotas.acquire("sendgrid", priority=True, share="sign_in")
            except QuotaExhaustedError:
                return False
            return True

        return once

    assert race(attempt) == 10

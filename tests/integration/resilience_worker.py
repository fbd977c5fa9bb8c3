"""One OS process of the resilience concurrency test: a function instance of its own (its own
breaker and tracker, their caches empty) hammering the shared records on DynamoDB Local.

Run as `python -m tests.integration.resilience_worker '<json>'`; prints its own tallies as
JSON. Phases start at wall-clock times the parent chose, so the processes collide.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta
from typing import Any

from services.adapters.errors import ProviderUnavailableError
from services.clock import utc_now
from services.resilience.breaker import BreakerPolicy, CircuitBreaker, CircuitOpenError
from services.resilience.quota import QuotaExhaustedError, QuotaLimit, QuotaPolicy, QuotaTracker
from services.settings import Settings
from services.store.circuits import DynamoCircuitStore
from services.store.quotas import DynamoQuotaStore
from services.store.table import dynamodb_table


def wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


def hammer_quota(table: Any, job: dict[str, Any]) -> dict[str, Any]:
    """`calls` attempts on one counter, in a tight loop, then a flush."""
    policy = QuotaPolicy(sync_interval=timedelta(seconds=job["sync_interval_s"]))
    limits = {job["service"]: QuotaLimit(job["limit"], "day")}
    tracker = QuotaTracker(limits, DynamoQuotaStore(table), utc_now, policy)
    allowed = refused = 0
    wait_until(job["start_at"])
    for _ in range(job["calls"]):
        try:
            tracker.acquire(job["service"], priority=job["priority"])
        except QuotaExhaustedError:
            refused += 1
        else:
            allowed += 1
    tracker.flush()
    return {"allowed": allowed, "refused": refused}


def hammer_symbols(table: Any, job: dict[str, Any]) -> dict[str, Any]:
    """One call per symbol of `symbols`, each asking for a symbol of the month's quota."""
    limits = {job["service"]: QuotaLimit(job["limit"], "month", "symbols")}
    tracker = QuotaTracker(limits, DynamoQuotaStore(table), utc_now)
    allowed: list[str] = []
    refused = 0
    wait_until(job["start_at"])
    for symbol in job["symbols"]:
        try:
            tracker.acquire(job["service"], priority=True, symbols=[symbol])
        except QuotaExhaustedError:
            refused += 1
        else:
            allowed.append(symbol)
    return {"allowed": allowed, "refused": refused}


def hammer_breaker(table: Any, job: dict[str, Any]) -> dict[str, Any]:
    """Bursts of failures at the same moments in every process, each followed, once the open
    timeout has passed, by one call per process racing for the single trial."""
    policy = BreakerPolicy(
        failure_threshold=5,
        failure_window=timedelta(seconds=60),
        open_timeout=timedelta(seconds=job["open_timeout_s"]),
        cache_ttl=timedelta(seconds=60),
        trial_timeout=timedelta(seconds=10),
    )
    breaker = CircuitBreaker(job["service"], DynamoCircuitStore(table), utc_now, policy)
    outage = ProviderUnavailableError(job["service"], "GET /x -> 500", 500)
    bursts: list[dict[str, int]] = []
    for burst in range(job["bursts"]):
        start = job["start_at"] + burst * job["burst_every_s"]
        failed = refused = trials = passed = trial_refused = 0
        wait_until(start)
        for _ in range(job["failures"]):
            try:
                permit = breaker.before_call()
            except CircuitOpenError:
                refused += 1
                continue
            breaker.record_failure(permit, outage)
            failed += 1
        wait_until(start + job["open_timeout_s"] + 0.3)
        try:
            permit = breaker.before_call()
        except CircuitOpenError:
            trial_refused += 1
        else:
            trials += int(permit.trial)
            passed += int(not permit.trial)
            breaker.record_success(permit)
        bursts.append(
            {
                "failed": failed,
                "refused": refused,
                "trials": trials,
                "passed": passed,
                "trial_refused": trial_refused,
            }
        )
    return {"bursts": bursts}


def main() -> None:
    job = json.loads(sys.argv[1])
    settings = Settings(dynamodb_endpoint=job["endpoint"], table_name=job["table"])
    table = dynamodb_table(settings)
    work = {"quota": hammer_quota, "symbols": hammer_symbols}.get(job["kind"], hammer_breaker)
    print(json.dumps(work(table, job)))


if __name__ == "__main__":
    main()

"""Two OS processes, each a function instance with its own breaker and tracker, hammering the
same circuit record, the same quota counter and the same symbol set on DynamoDB Local: no
update is lost, a symbol cap is never passed, a burst of failures opens the circuit exactly
once, exactly one process wins each trial, and the log of state changes tells one consistent
story."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from services.clock import utc_now
from services.local.dynamodb_local import DynamoDBLocal
from services.store.circuits import DynamoCircuitStore
from services.store.quotas import DynamoQuotaStore

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PROCESSES = 2


def run_workers(root: Path, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Start every job in its own interpreter, wait for all, return what each printed."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.integration.resilience_worker", json.dumps(job)],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for job in jobs
    ]
    results = []
    for child in children:
        out, err = child.communicate(timeout=150)
        assert child.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def base_job(dynamodb_local: DynamoDBLocal, fresh_table: Any, **job: Any) -> dict[str, Any]:
    # Late enough for both interpreters to have started and imported everything.
    start_at = time.time() + 4.0
    return {
        "endpoint": dynamodb_local.endpoint,
        "table": fresh_table.name,
        "start_at": start_at,
        **job,
    }


def test_two_processes_adding_to_one_quota_lose_no_count(root, dynamodb_local, fresh_table) -> None:
    # Every call its own atomic add: the most contention two instances can make.
    job = base_job(
        dynamodb_local,
        fresh_table,
        kind="quota",
        service="finnhub",
        limit=100_000,
        priority=False,
        calls=150,
        sync_interval_s=0,
    )

    results = run_workers(root, [job] * PROCESSES)

    today = utc_now().strftime("%Y-%m-%d")
    assert all(r["refused"] == 0 for r in results)
    assert DynamoQuotaStore(fresh_table).get("finnhub:requests_per_day", today) == PROCESSES * 150


def test_two_processes_racing_for_the_last_units_account_for_every_call(
    root, dynamodb_local, fresh_table
) -> None:
    # Batched far from the limit, call-by-call conditional adds near it.
    limit = 200
    job = base_job(
        dynamodb_local,
        fresh_table,
        kind="quota",
        service="sendgrid",
        limit=limit,
        priority=True,
        calls=150,
        sync_interval_s=60,
    )

    results = run_workers(root, [job] * PROCESSES)

    today = utc_now().strftime("%Y-%m-%d")
    total = DynamoQuotaStore(fresh_table).get("sendgrid:requests_per_day", today)
    allowed = sum(r["allowed"] for r in results)
    batch = 10  # 5 % of 200: what a process may hold uncounted at most
    assert total == allowed  # every allowed call counted, none twice
    assert limit <= total <= limit + PROCESSES * batch
    assert sum(r["refused"] for r in results) == PROCESSES * 150 - allowed


def test_two_processes_adding_symbols_never_pass_the_cap_nor_lose_one(
    root, dynamodb_local, fresh_table
) -> None:
    # 20 symbols both ask for and 20 of each process's own: 60 distinct, for a cap of 50.
    limit = 50
    shared = [f"S{n}" for n in range(20)]
    jobs = [
        base_job(
            dynamodb_local,
            fresh_table,
            kind="symbols",
            service="tiingo",
            limit=limit,
            symbols=[
                s
                for pair in zip(shared, [f"P{p}X{n}" for n in range(20)], strict=True)
                for s in pair
            ],
        )
        for p in range(PROCESSES)
    ]

    results = run_workers(root, jobs)

    month = utc_now().strftime("%Y-%m")
    stored = DynamoQuotaStore(fresh_table).symbols("tiingo:symbols_per_month", month)
    allowed = {s for r in results for s in r["allowed"]}
    assert len(stored) <= limit
    assert allowed == stored  # every call let through has its symbol counted, no other is
    assert sum(r["refused"] for r in results) > 0


def test_two_processes_failing_together_open_the_circuit_once_per_burst(
    root, dynamodb_local, fresh_table
) -> None:
    bursts = 3
    job = base_job(
        dynamodb_local,
        fresh_table,
        kind="breaker",
        service="tiingo",
        bursts=bursts,
        failures=20,
        open_timeout_s=1.0,
        burst_every_s=3.0,
    )

    results = run_workers(root, [job] * PROCESSES)

    store = DynamoCircuitStore(fresh_table)
    log = list(reversed(store.transitions(utc_now(), limit=100)))
    steps = [(t.from_state, t.to_state) for t in log]
    # One consistent chain: each change starts where the previous one ended...
    assert all(a[1] == b[0] for a, b in pairwise(steps))
    # ...and each burst opened it once, had one trial, and closed it once.
    assert steps == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")] * bursts
    assert all(t.failures == 5 for t in log if t.to_state == "open")
    for burst in range(bursts):
        tallies = [r["bursts"][burst] for r in results]
        assert sum(t["trials"] for t in tallies) == 1
        assert sum(t["passed"] + t["trial_refused"] for t in tallies) == PROCESSES - 1
        # Failures stopped being made once the circuit was open in each process.
        assert sum(t["failed"] for t in tallies) >= 5
        assert sum(t["refused"] for t in tallies) > 0
    final = store.get("tiingo")
    # Per burst: four failures written one by one, then open, half-open and closed.
    assert final.state == "closed" and final.version == 7 * bursts

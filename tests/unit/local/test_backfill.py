"""History on first start: the scheduler's first run, the backfill's windows, its resume after
an interruption, its stop before spending a quota, and how the workbench shows it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.local.backfill import (
    Backfill,
    WindowResult,
    plan_refusal,
    progress_line,
    quota_check,
    windows,
)
from services.local.scheduler import LocalScheduler
from services.store.backfill import BackfillState, InMemoryBackfillRepository
from workbench.client import ApiClient
from workbench.components.architecture import ArchitecturePanel
from workbench.stores.metrics import MetricsStore
from workbench.stores.pipeline import PipelineStore
from workbench.stores.table import TableStore

pytestmark = pytest.mark.unit

NOW = datetime(2024, 6, 30, 15, 0, tzinfo=UTC)


@dataclass
class FakeIngestion:
    """Stores `per_day` stories a day of each window and publishes them; analysis is at once."""

    per_day: int = 3
    windows: list[tuple[datetime, datetime]] = field(default_factory=list)
    backfill: Backfill | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def __call__(self, start: datetime, end: datetime) -> WindowResult:
        self.windows.append((start, end))
        days = (end.date() - start.date()).days + 1
        keys = [f"{start.date()}-{i}" for i in range(days * self.per_day)]
        assert self.backfill is not None
        self.backfill.note_published(keys)
        self.backfill.note_analyzed(keys)
        return WindowResult(new=len(keys), errors=dict(self.errors))


def backfill_of(
    ingestion: FakeIngestion,
    repository: InMemoryBackfillRepository,
    *,
    days: int = 25,
    **options: Any,
) -> Backfill:
    backfill = Backfill(
        tickers=["MSFT", "AAPL"],
        days=days,
        window_days=10,
        ingest_window=ingestion,
        repository=repository,
        clock=lambda: NOW,
        analysis_wait_s=1.0,
        **options,
    )
    ingestion.backfill = backfill
    return backfill


def test_scheduler_runs_every_schedule_once_at_start() -> None:
    # Given a rule whose interval is a minute
    ran = threading.Event()
    scheduler = LocalScheduler()
    scheduler.add("ingestion", 60.0, lambda event, context: ran.set())
    # When the scheduler starts
    scheduler.start()
    try:
        # Then the rule runs at once, not after its interval
        assert ran.wait(5)
    finally:
        scheduler.stop()
    assert scheduler.schedules["ingestion"].runs == 1


def test_windows_cover_the_days_newest_first() -> None:
    found = windows(date(2024, 6, 30), 25, 10)
    assert [(w.first, w.last) for w in found] == [
        (date(2024, 6, 21), date(2024, 6, 30)),
        (date(2024, 6, 11), date(2024, 6, 20)),
        (date(2024, 6, 6), date(2024, 6, 10)),
    ]
    assert sum(w.days for w in found) == 25


def test_backfill_ingests_each_window_and_is_not_repeated() -> None:
    # Given a new table
    repository = InMemoryBackfillRepository()
    ingestion = FakeIngestion()
    lines: list[str] = []
    backfill = backfill_of(ingestion, repository, report=lambda s: lines.append(progress_line(s)))
    # When the backfill runs
    state = backfill.run()
    # Then every window was asked for with its dates, the newest ending now
    assert ingestion.windows[0] == (datetime(2024, 6, 21, tzinfo=UTC), NOW)
    assert ingestion.windows[-1][0] == datetime(2024, 6, 6, tzinfo=UTC)
    assert len(ingestion.windows) == 3
    # And the table says done, with the counts and times
    assert state.status == "done" and repository.get() == state
    assert (state.days_done, state.days_total) == (25, 25)
    assert state.articles_ingested == state.articles_analyzed == 75
    assert state.started_at and state.finished_at and state.through == "2024-06-30"
    assert [s.status for s in repository.saved].count("running") == 4
    assert lines[1] == "backfill: 10/25 days, 30 articles ingested, 30 analyzed"
    assert lines[-1].startswith("backfill: 25 days backfilled in ")
    # When the stack starts again on the same table
    again = FakeIngestion()
    assert backfill_of(again, repository).run().status == "done"
    # Then nothing is fetched again
    assert again.windows == []


def test_interrupted_backfill_resumes_after_its_last_window() -> None:
    # Given a backfill stopped after its first window (10 of 25 days)
    repository = InMemoryBackfillRepository()
    repository.save(
        BackfillState(
            status="running",
            days_total=25,
            days_done=10,
            through="2024-06-29",
            articles_ingested=30,
            articles_analyzed=30,
            started_at="2024-06-29T10:00:00Z",
            seconds=4.0,
        )
    )
    ingestion = FakeIngestion()
    # When it starts again (a day later)
    state = backfill_of(ingestion, repository).run()
    # Then only the remaining windows of the same range are fetched
    assert [w[0].date() for w in ingestion.windows] == [date(2024, 6, 10), date(2024, 6, 5)]
    assert state.status == "done" and state.days_done == 25
    assert state.articles_ingested == 75 and state.articles_analyzed == 75
    assert state.started_at == "2024-06-29T10:00:00Z" and state.seconds >= 4.0


def test_backfill_stops_before_spending_a_quota() -> None:
    # Given quotas with room for one window only
    repository = InMemoryBackfillRepository()
    ingestion = FakeIngestion()
    checks = iter([None, "stopped to spare finnhub's requests_per_hour quota"])
    state = backfill_of(ingestion, repository, check_quota=lambda: next(checks)).run()
    # Then it stops politely after that window and says why
    assert len(ingestion.windows) == 1
    assert state.status == "skipped" and state.days_done == 10
    assert "finnhub's requests_per_hour" in state.message
    assert "skipped: stopped to spare" in progress_line(state)
    # And a refusal by the guard during a window stops it too
    refused = FakeIngestion(errors={"tiingo": "QuotaExhaustedError: tiingo quota used up"})
    state = backfill_of(refused, InMemoryBackfillRepository()).run()
    assert len(refused.windows) == 1 and state.status == "skipped"
    assert state.message.startswith("tiingo's quota")


def test_free_plan_is_not_backfilled() -> None:
    refusal = plan_refusal("paid", "free", 120)
    assert refusal is not None and "Finnhub on the free plan" in refusal
    assert plan_refusal("paid", "paid", 120) is None
    ingestion = FakeIngestion()
    state = backfill_of(ingestion, InMemoryBackfillRepository(), refusal=refusal).run()
    assert ingestion.windows == [] and state.status == "skipped"
    assert state.message == refusal


def test_no_days_means_no_backfill() -> None:
    ingestion = FakeIngestion()
    state = backfill_of(ingestion, InMemoryBackfillRepository(), days=0).run()
    assert ingestion.windows == [] and state.status == "skipped"


@dataclass
class FakeView:
    name: str
    per: str
    used: int
    limit: int
    resets_at: datetime
    counts: str = "requests"


class FakeQuotas:
    def __init__(self, views: list[FakeView]) -> None:
        self.views = views

    def quota_views(self, service: str, *, fresh: bool = False) -> list[FakeView]:
        return self.views


def test_quota_check_waits_out_short_quotas_and_stops_for_long_ones() -> None:
    slept: list[float] = []
    second = FakeView("requests_per_second", "second", 20, 30, NOW + timedelta(seconds=0.5))
    quotas = FakeQuotas([second])

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        second.used = 0  # the next second

    check = quota_check(quotas, lambda: {"finnhub": 8}, lambda: NOW, sleep=sleep)  # type: ignore[arg-type]
    assert check() is None and slept == [0.5]
    hour = FakeView("requests_per_hour", "hour", 4_000, 10_000, NOW + timedelta(minutes=30))
    quotas.views = [hour]
    assert check() is None  # 4,008 of 10,000 leaves more than half
    hour.used = 4_995
    reason = check()
    assert reason is not None and "finnhub's requests_per_hour quota (4995/10000 used" in reason


def test_workbench_shows_the_backfill_while_it_runs_then_one_line() -> None:
    client = ApiClient("http://127.0.0.1:9", timeout_s=0.5)
    pipeline = PipelineStore(client, lambda: None)
    panel = ArchitecturePanel(
        pipeline=pipeline,
        table=TableStore(client, lambda: None),
        metrics=MetricsStore(client, lambda: None),
    )
    panel.__panel__()
    assert not panel._backfill_bar.visible and not panel._backfill_text.visible
    running = BackfillState(
        status="running", days_total=120, days_done=40, articles_ingested=3120
    ).as_dict()
    pipeline.read({"stages": {}, "last_runs": [], "backfill": running})
    assert panel._backfill_bar.visible and panel._backfill_bar.value == 33
    assert "backfilling 40/120 days, 3,120 articles ingested" in pipeline.backfill_line
    assert panel._backfill_text.visible
    done = {**running, "status": "done", "days_done": 120, "seconds": 41.6}
    pipeline.read({"stages": {}, "backfill": done})
    assert not panel._backfill_bar.visible
    assert pipeline.backfill_line == "history: 120 days backfilled in 42 s"

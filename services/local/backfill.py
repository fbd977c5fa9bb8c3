"""History on first start: the emulated world's past news, through the real pipeline.

A new embedded stack holds a day of news at most; the charts want months. The backfill asks
the providers (the emulators) for the default watchlist's news of the last
`LOCAL_BACKFILL_DAYS`, a window of `LOCAL_BACKFILL_WINDOW_DAYS` at a time, newest first (the
month a chart opens on fills first), with the window's dates in the requests. Each window is
an ordinary ingestion cycle (the same adapters, guard, dedupe, store and publish), and the
analysis function scores what it publishes through the local topic.

Its progress is an item of the table (`services/store/backfill.py`), saved after every
window: the API's environments answer it under `backfill` in `GET /api/v2/ops/pipeline`, a
persistent stack does not repeat a finished backfill, and an interrupted one resumes after
its last finished window.

The quotas are respected as the guard counts them: before each window the backfill checks
that its requests leave at least half of every request quota of the period for the live
service, and stops (status `skipped`, with the reason) rather than spend it. A free plan
is not backfilled at all: its limits are for the live service.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.adapters.models import NewsArticle
from services.adapters.plans import Endpoint
from services.adapters.protocol import NewsSource
from services.clock import Clock, iso, utc_now
from services.ingestion.run import IngestionDependencies, run_ingestion
from services.messaging.publisher import Publisher
from services.resilience.quota import QuotaTracker
from services.store.backfill import BackfillRepository, BackfillState

# The share of a request quota's period the backfill may leave used: the rest is the live
# service's (scheduled cycles, the API's price fetches).
QUOTA_SHARE = 0.5
# How long the end waits for analysis to score what the last windows published.
ANALYSIS_WAIT_S = 300.0
# Waits for a per-second or per-minute quota to reset before a window, at most.
MAX_QUOTA_WAITS = 5


@dataclass(frozen=True)
class Window:
    index: int
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class WindowResult:
    """What one window's ingestion stored (new stories) and why a source failed, if one did."""

    new: int
    errors: dict[str, str] = field(default_factory=dict)


# One window through the ingestion (start and end of the window, both inclusive).
IngestWindow = Callable[[datetime, datetime], WindowResult]
# A reason to stop before a window (a quota it would spend), or None.
QuotaCheck = Callable[[], str | None]


def windows(through: date, days: int, size: int) -> list[Window]:
    """The `days` ending on `through`, in windows of `size` days, newest first."""
    found: list[Window] = []
    done = 0
    while done < days:
        last = through - timedelta(days=done)
        span = min(size, days - done)
        found.append(Window(len(found), last - timedelta(days=span - 1), last))
        done += span
    return found


def progress_line(state: BackfillState) -> str:
    """The terminal's line (and the workbench's text) for a state."""
    counts = f"{state.articles_ingested:,} articles ingested, {state.articles_analyzed:,} analyzed"
    if state.status == "done":
        return f"backfill: {state.days_done} days backfilled in {state.seconds:.0f} s ({counts})"
    line = f"backfill: {state.days_done}/{state.days_total} days, {counts}"
    if state.status in ("skipped", "failed"):
        line += f" - {state.status}: {state.message}"
    return line


@dataclass
class Backfill:
    """Runs the windows not done yet; `note_published` / `note_analyzed` keep the counts."""

    tickers: Sequence[str]
    days: int
    window_days: int
    ingest_window: IngestWindow
    repository: BackfillRepository
    check_quota: QuotaCheck = lambda: None
    clock: Clock = utc_now
    report: Callable[[BackfillState], None] = lambda state: None
    # Why not to run at all (a free plan), or None.
    refusal: str | None = None
    analysis_wait_s: float = ANALYSIS_WAIT_S
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _outstanding: set[str] = field(default_factory=set)
    _analyzed: int = 0
    _state: BackfillState = field(default_factory=BackfillState)
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    # --- counts, from the publisher and the topic's subscriber -------------------------

    def note_published(self, keys: Iterable[str]) -> None:
        with self._lock:
            self._outstanding.update(keys)

    def note_analyzed(self, keys: Iterable[str]) -> None:
        """Keys a delivered message carried: those the backfill published count once."""
        with self._lock:
            mine = self._outstanding.intersection(keys)
            self._outstanding -= mine
            self._analyzed += len(mine)

    @property
    def state(self) -> BackfillState:
        with self._lock:
            return replace(self._state, articles_analyzed=self._analyzed)

    # --- running -----------------------------------------------------------------------

    def start(self) -> Backfill:
        self._thread = threading.Thread(target=self.run, name="backfill", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop after the window in flight, waiting for it only a moment: a stack must stop
        at once, and the window's stories are stored idempotently, so the next start redoes
        it (the state says which windows finished)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)

    def run(self) -> BackfillState:
        """Every window not done yet, then `done`; a stored `done` is not repeated."""
        stored = self.repository.get()
        if stored is not None and stored.status == "done":
            self._state, self._analyzed = stored, stored.articles_analyzed
            return stored
        if self.days <= 0:
            return self._save(BackfillState(status="skipped", message="LOCAL_BACKFILL_DAYS=0"))
        now = self.clock()
        state = self._resumed(stored, now)
        self._analyzed = state.articles_analyzed
        if self.refusal is not None:
            return self._finish(state.but(status="skipped", message=self.refusal))
        began = time.monotonic() - state.seconds
        state = self._save(state.but(status="running", message=""))
        self.report(self.state)
        through = date.fromisoformat(state.through)
        try:
            for window in windows(through, state.days_total, self.window_days):
                if window.last > through - timedelta(days=state.days_done):
                    continue  # finished before an interruption
                if self._stop.is_set():
                    return state
                reason = self.check_quota()
                if reason is not None:
                    return self._finish(state.but(status="skipped", message=reason))
                result = self.ingest_window(*self._bounds(window, now))
                state = self._save(
                    state.but(
                        days_done=state.days_done + window.days,
                        articles_ingested=state.articles_ingested + result.new,
                        seconds=round(time.monotonic() - began, 1),
                    )
                )
                self.report(self.state)
                stop = _quota_error(result.errors)
                if stop is not None:
                    return self._finish(state.but(status="skipped", message=stop))
            self._wait_for_analysis()
        except Exception as error:
            return self._finish(
                state.but(status="failed", message=f"{type(error).__name__}: {error}")
            )
        return self._finish(state.but(status="done", seconds=round(time.monotonic() - began, 1)))

    def _resumed(self, stored: BackfillState | None, now: datetime) -> BackfillState:
        """The stored progress of an interrupted backfill, or a new one ending today."""
        if stored is not None and stored.through and stored.days_total == self.days:
            return stored.but(finished_at="")
        return BackfillState(
            days_total=self.days,
            through=now.date().isoformat(),
            tickers=sorted(self.tickers),
            started_at=iso(now),
        )

    def _bounds(self, window: Window, now: datetime) -> tuple[datetime, datetime]:
        start = datetime.combine(window.first, datetime.min.time(), UTC)
        end = datetime.combine(window.last, datetime.max.time(), UTC)
        return start, min(end, now)

    def _wait_for_analysis(self) -> None:
        deadline = time.monotonic() + self.analysis_wait_s
        while time.monotonic() < deadline and not self._stop.is_set():
            with self._lock:
                if not self._outstanding:
                    return
            time.sleep(0.1)

    def _finish(self, state: BackfillState) -> BackfillState:
        saved = self._save(state.but(finished_at=iso(self.clock())))
        self.report(self.state)
        return saved

    def _save(self, state: BackfillState) -> BackfillState:
        with self._lock:
            state = state.but(articles_analyzed=self._analyzed)
            self._state = state
        self.repository.save(state)
        return state


def _quota_error(errors: dict[str, str]) -> str | None:
    """A source refused for its quota during the window: stop rather than spend more."""
    for source, error in errors.items():
        if "Quota" in error.split(":", 1)[0]:
            return f"{source}'s quota: {error}"
    return None


# --- the real ingestion of a window ---------------------------------------------------------


class _WindowedSource:
    """A news source asked for a fixed window, whatever the cycle's lookback."""

    def __init__(self, source: NewsSource, start: datetime, end: datetime) -> None:
        self._source = source
        self._start = start
        self._end = end

    @property
    def name(self) -> str:
        return self._source.name

    @property
    def news_endpoint(self) -> Endpoint:
        return self._source.news_endpoint

    @property
    def last_requests(self) -> int:
        return self._source.last_requests

    def news_requests(self, tickers: Sequence[str]) -> int:
        return self._source.news_requests(tickers)

    def fetch_news(
        self, tickers: Sequence[str], since: datetime, until: datetime | None = None
    ) -> list[NewsArticle]:
        return self._source.fetch_news(tickers, self._start, self._end)


class _NotingPublisher:
    """The topic, telling the backfill which keys it published."""

    def __init__(self, publisher: Publisher, note: Callable[[Iterable[str]], None]) -> None:
        self._publisher = publisher
        self._note = note

    def publish(self, message: dict[str, Any]) -> str:
        # Noted first: analysis may finish before `publish` returns.
        self._note(message.get("article_keys") or [])
        message_id: str = self._publisher.publish(message)
        return message_id


def pipeline_window(
    tickers: Sequence[str],
    deps: IngestionDependencies,
    note_published: Callable[[Iterable[str]], None],
    flush: Callable[[], None] = lambda: None,
) -> IngestWindow:
    """One window as an ingestion cycle of `deps`: its sources asked for the window's dates,
    its stories published to the analysis topic (no provider sentiment: that is weekly and
    of now, which the scheduled cycles record)."""

    def ingest(start: datetime, end: datetime) -> WindowResult:
        windowed = replace(
            deps,
            news_sources=[_WindowedSource(s, start, end) for s in deps.news_sources],
            sentiment_source=None,
            publisher=_NotingPublisher(deps.publisher, note_published),
        )
        summary = run_ingestion(tickers, windowed)
        flush()  # the window's quota counts reach the table, where every instance sees them
        return WindowResult(new=summary.new, errors=dict(summary.errors))

    return ingest


def quota_check(
    quotas: QuotaTracker,
    needs: Callable[[], dict[str, int]],
    clock: Clock = utc_now,
    share: float = QUOTA_SHARE,
    sleep: Callable[[float], None] = time.sleep,
) -> QuotaCheck:
    """Stop when a window's requests would take any request quota past `share` of its
    limit in the current period, as the guard counts (the table's totals). A quota of a
    second or a minute is waited out instead: it is back before a person would notice."""

    def verdict() -> tuple[str | None, float]:
        for service, units in needs().items():
            for view in quotas.quota_views(service, fresh=True):
                if view.counts != "requests" or view.limit <= 0:
                    continue
                if view.used + units <= view.limit * share:
                    continue
                if view.per in ("second", "minute"):
                    return None, max(0.05, (view.resets_at - clock()).total_seconds())
                return (
                    f"stopped to spare {service}'s {view.name} quota "
                    f"({view.used}/{view.limit} used, resets {iso(view.resets_at)}); "
                    "the rest of the history is fetched at the next start"
                ), 0.0
        return None, 0.0

    def check() -> str | None:
        for _ in range(MAX_QUOTA_WAITS):
            reason, wait_s = verdict()
            if reason is not None or wait_s <= 0:
                return reason
            sleep(min(wait_s, 61.0))
        return "the providers' short quotas stayed full"

    return check


def plan_refusal(tiingo_plan: str, finnhub_plan: str, days: int) -> str | None:
    """A free plan's limits are the live service's: no backfill on them."""
    free = [
        name
        for name, plan in (("Tiingo", tiingo_plan), ("Finnhub", finnhub_plan))
        if plan == "free"
    ]
    if not free:
        return None
    return (
        f"{' and '.join(free)} on the free plan: {days} days of history would spend "
        "the quota the live service needs (set the paid plan to backfill)"
    )

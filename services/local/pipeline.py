"""The local news pipeline: provider emulators, the analysis topic and the schedules.

Wiring only: the functions are the same handlers deployed to Lambda, their collaborators
built by `services.composition` from settings that point at the emulators.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from services.alerts.evaluate import EvaluationSummary
from services.analysis.batches import AnalysisDependencies
from services.clock import Clock, utc_now
from services.composition.analysis import analysis_dependencies
from services.composition.ingestion import ingestion_cycle
from services.composition.metrics import metrics_dependencies
from services.composition.notification import notification_dependencies
from services.composition.resilience import table_guard
from services.functions import analysis, ingestion, metrics, notification
from services.ingestion.run import IngestionDependencies
from services.local.backfill import (
    Backfill,
    pipeline_window,
    plan_refusal,
    progress_line,
    quota_check,
)
from services.local.bus import LocalTopic
from services.local.emulators.finnhub import FinnhubEmulator
from services.local.emulators.tiingo import TiingoEmulator
from services.local.emulators.world import NewsWorld
from services.local.scheduler import LocalScheduler
from services.messaging.publisher import messages_from_sns_event
from services.resilience.resilient_guard import ResilientGuard
from services.settings import Settings, watchlist
from services.store.backfill import DynamoBackfillRepository
from services.store.dead_letters import DynamoDeadLetterRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

TOPIC = "sentiment-analysis"
TIINGO_KEY = "local-tiingo-key"
FINNHUB_KEY = "local-finnhub-key"


@dataclass
class LocalPipeline:
    """Emulators + topic + scheduler. `settings` comes back pointing at the emulators."""

    settings: Settings
    table: Table
    seed: int = 7
    schedules_enabled: bool = True
    world: NewsWorld | None = None
    tiingo: TiingoEmulator | None = None
    finnhub: FinnhubEmulator | None = None
    topic: LocalTopic | None = None
    scheduler: LocalScheduler = field(default_factory=LocalScheduler)
    # The ingestion function's circuit breakers and quotas (an instance of its own, sharing
    # their state with the API's through the table, as two Lambda functions would).
    guard: ResilientGuard | None = None
    # Where the metrics function's EMF lines go (None: nowhere).
    emf_log: Path | None = None
    # The emulated world's time, and the quotas' and ingestion's: a test can run an hour of
    # cycles in seconds, each provider's limits counting the same simulated periods.
    clock: Clock = utc_now
    # Backfill the default watchlist's history on start (`services/local/backfill.py`),
    # telling `backfill_progress` a line per window.
    backfill_enabled: bool = False
    backfill_progress: Callable[[str], None] | None = None
    backfill: Backfill | None = None
    _emf_lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Settings:
        self.world = NewsWorld(seed=self.seed, clock=self.clock)
        # The emulators run the plans the adapters are configured with, so a free-plan stack
        # meets what a free key meets.
        self.tiingo = TiingoEmulator(
            self.world, api_key=TIINGO_KEY, plan=self.settings.tiingo_plan
        ).start()
        self.finnhub = FinnhubEmulator(
            self.world, api_key=FINNHUB_KEY, plan=self.settings.finnhub_plan
        ).start()
        self.settings = self.settings.model_copy(
            update={
                "tiingo_base_url": self.tiingo.url,
                "tiingo_api_key": SecretStr(TIINGO_KEY),
                "finnhub_base_url": self.finnhub.url,
                "finnhub_api_key": SecretStr(FINNHUB_KEY),
            }
        )
        self.guard = table_guard(self.settings, self.table, self.clock)
        self.topic = self._analysis_topic()
        cycle = ingestion_cycle(self.settings, self.table, self.topic, self.guard, self.clock)
        self._schedule("ingestion", self.settings.ingestion_interval_s, ingestion.handler, cycle)
        notifications = notification_dependencies(self.settings, self.table, self.guard, self.clock)
        for name in ("notification", "digest"):
            interval = getattr(self.settings, f"{name}_interval_s")
            self._schedule(name, interval, notification.handler, notifications)
        measures = metrics_dependencies(self.settings, self.table, emit=self._emit)
        self._schedule("metrics", self.settings.metrics_interval_s, metrics.handler, measures)
        if self.schedules_enabled:
            self.scheduler.start()
        if self.backfill_enabled and self.settings.local_backfill_days > 0:
            self.backfill = self._backfill(cycle.fetch).start()
        return self.settings

    def _analysis_topic(self) -> LocalTopic:
        """The topic delivering to the analysis function; what it cannot deliver is kept as
        a dead letter, as SNS's redrive policy keeps it in AWS."""
        assert self.guard is not None
        deps = analysis_dependencies(self.settings, self.table, self.guard, self.clock)
        check_alerts = deps.check_alerts
        if check_alerts is not None:
            deps = replace(deps, check_alerts=lambda t: self._deliver_soon(check_alerts(t)))
        dead_letters = DynamoDeadLetterRepository(self.table)
        return LocalTopic(
            TOPIC,
            lambda event, context: self._analyze(event, context, deps),
            lambda message_id, message, reason: dead_letters.save(
                TOPIC, message_id, message, reason, utc_now()
            ),
        ).start()

    def _schedule(
        self, name: str, interval_s: float, handler: Callable[..., Any], deps: object
    ) -> None:
        """The function `handler` on a schedule, with the collaborators built here."""
        self.scheduler.add(
            name, interval_s, lambda event, context: handler(event, context, deps=deps)
        )

    def _backfill(self, deps: IngestionDependencies) -> Backfill:
        """The history backfill of the default watchlist, through this pipeline."""
        assert self.guard is not None
        tickers = watchlist(self.settings)
        settings = self.settings
        progress = self.backfill_progress
        backfill = Backfill(
            tickers=tickers,
            days=settings.local_backfill_days,
            window_days=settings.local_backfill_window_days,
            ingest_window=lambda start, end: window(start, end),
            repository=DynamoBackfillRepository(self.table),
            check_quota=quota_check(
                self.guard.quotas,
                lambda: {s.name: s.news_requests(tickers) for s in deps.news_sources},
                self.clock,
            ),
            clock=self.clock,
            report=(lambda state: progress(progress_line(state))) if progress else lambda s: None,
            refusal=plan_refusal(
                settings.tiingo_plan, settings.finnhub_plan, settings.local_backfill_days
            ),
        )
        window = pipeline_window(tickers, deps, backfill.note_published, self.guard.flush)
        return backfill

    def _analyze(
        self, event: dict[str, Any], context: Any, deps: AnalysisDependencies
    ) -> dict[str, Any]:
        """The analysis function; the backfill counts the stories it published as scored."""
        result = analysis.handler(event, context, deps=deps)
        if self.backfill is not None:
            for _, message in messages_from_sns_event(event):
                self.backfill.note_analyzed(message.get("article_keys") or [])
        return result

    def _deliver_soon(self, evaluation: EvaluationSummary) -> EvaluationSummary:
        """An alert e-mail was queued: run the notification function now rather than at its
        next minute (in AWS the analysis function would invoke it asynchronously)."""
        if evaluation.fired.get("queued"):
            threading.Thread(
                target=self.scheduler.trigger, args=("notification",), daemon=True
            ).start()
        return evaluation

    def _emit(self, line: str) -> None:
        """The metrics function's EMF lines, into a file (CloudWatch reads stdout in AWS)."""
        if self.emf_log is None:
            return
        with self._emf_lock, self.emf_log.open("a") as handle:
            handle.write(line + "\n")

    def run_metrics_now(self) -> dict[str, Any]:
        """What `POST /api/v2/ops/metrics/run` does locally: one metrics run, now."""
        snapshot: dict[str, Any] = self.scheduler.trigger("metrics", raise_errors=True)
        return snapshot

    def deliver_now(self) -> dict[str, Any]:
        """One run of the notification function (deliver what is due), now."""
        result: dict[str, Any] = self.scheduler.trigger("notification", raise_errors=True)
        return result

    def run_ingestion_now(self) -> dict[str, Any]:
        """What `POST /api/v2/ops/ingestion/run` does locally: one cycle, on this thread."""
        summary: dict[str, Any] = self.scheduler.trigger("ingestion", raise_errors=True)
        return summary

    def stats(self) -> dict[str, int]:
        if self.topic is None:
            return {}
        stats = self.topic.stats
        return {
            "published": stats.published,
            "delivered": stats.delivered,
            "retried": stats.retried,
            "dead_lettered": stats.dead_lettered,
        }

    def urls(self) -> dict[str, str | None]:
        return {
            "tiingo_url": self.tiingo.url if self.tiingo else None,
            "finnhub_url": self.finnhub.url if self.finnhub else None,
        }

    def stop(self) -> None:
        if self.backfill is not None:
            self.backfill.stop()
        self.scheduler.stop()
        if self.topic is not None:
            self.topic.stop()
        for emulator in (self.tiingo, self.finnhub):
            if emulator is not None:
                emulator.stop()

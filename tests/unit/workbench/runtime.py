"""What the local stack runs beside the API, over the in-memory store: an ingestion cycle
through the real adapters to the emulated providers (its own guard, as the ingestion
function has), analysis of what it publishes (the linear model, at once, as the local topic
delivers), the metrics function, and the live accuracy of the emulated news."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import SecretStr

from services.adapters.finnhub import FinnhubAdapter
from services.adapters.tiingo import TiingoAdapter
from services.analysis.analyze import TextScorer
from services.analysis.batches import AnalysisDependencies, analyze_batches
from services.clock import Clock
from services.composition.resilience import entitlements, resilient_guard
from services.ingestion.cycle import IngestionCycle, run_cycle
from services.ingestion.run import IngestionDependencies, IngestionPolicy
from services.local.live_accuracy import live_accuracy
from services.metrics.run import MetricsDependencies, run_metrics
from services.scoring import scorer_for
from services.settings import Settings, watchlist
from services.store.memory import MemoryStore
from tests.unit.workbench.emulated import FINNHUB, FINNHUB_KEY, TIINGO, TIINGO_KEY, EmulatedHosts


@cache
def linear_scorer() -> TextScorer:
    """The committed linear model, loaded once for every test of the process."""
    return scorer_for("linear")


@dataclass
class AnalyzingTopic:
    """The analysis topic: each message is scored when it is published."""

    analysis: AnalysisDependencies
    published: int = 0
    delivered: int = 0

    def publish(self, message: dict[str, Any]) -> str:
        self.published += 1
        message_id = f"message-{self.published}"
        analyze_batches([(message_id, list(message.get("article_keys") or []))], self.analysis)
        self.delivered += 1
        return message_id

    def stats(self) -> dict[str, int]:
        return {
            "published": self.published,
            "delivered": self.delivered,
            "retried": 0,
            "dead_lettered": 0,
        }


def provider_settings(settings: Settings) -> Settings:
    """`settings` with the news and price providers at their emulators."""
    return settings.model_copy(
        update={
            "tiingo_base_url": TIINGO,
            "tiingo_api_key": SecretStr(TIINGO_KEY),
            "finnhub_base_url": f"{FINNHUB}/api/v1",
            "finnhub_api_key": SecretStr(FINNHUB_KEY),
        }
    )


@dataclass
class LocalRuntime:
    """The hooks `ApiDependencies` takes from the local stack, over `memory`."""

    settings: Settings
    memory: MemoryStore
    hosts: EmulatedHosts
    clock: Clock
    ingestion_runs: int = 0
    accuracy_limits: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        memory = self.memory
        self.topic = AnalyzingTopic(
            AnalysisDependencies(memory.articles, memory.sentiment, linear_scorer(), self.clock)
        )
        self.guard = resilient_guard(self.settings, memory.circuits, memory.quotas, self.clock)
        settings = self.settings
        # A client handed to an adapter comes with its provider's root and key, as the
        # adapter's own would.
        finnhub_key = settings.finnhub_api_key.get_secret_value()
        finnhub = FinnhubAdapter(
            settings.finnhub_base_url,
            finnhub_key,
            client=self.hosts.client(settings.finnhub_base_url, {"X-Finnhub-Token": finnhub_key}),
        )
        tiingo_key = settings.tiingo_api_key.get_secret_value()
        tiingo = TiingoAdapter(
            settings.tiingo_base_url,
            tiingo_key,
            client=self.hosts.client(
                settings.tiingo_base_url, {"Authorization": f"Token {tiingo_key}"}
            ),
            clock=self.clock,
        )
        fetch = IngestionDependencies(
            news_sources=[tiingo, finnhub],
            sentiment_source=finnhub,
            articles=memory.articles,
            sentiment=memory.sentiment,
            publisher=self.topic,
            guard=self.guard,
            clock=self.clock,
            # One batch at a time: the stories are scored as they are published.
            policy=IngestionPolicy(store_concurrency=1),
            entitlements=entitlements(settings, memory.entitlements, self.clock),
        )
        self.cycle = IngestionCycle(
            fetch=fetch,
            configurations=memory.configurations,
            runs=memory.ingestion_runs,
            watchlist=watchlist(settings),
            flush_quotas=self.guard.flush,
        )

    def run_ingestion(self) -> dict[str, Any]:
        self.ingestion_runs += 1
        return run_cycle(self.cycle)

    def run_metrics(self) -> dict[str, Any]:
        memory = self.memory
        return run_metrics(
            MetricsDependencies(
                articles=memory.articles,
                runs=memory.ingestion_runs,
                outbox=memory.outbox,
                store=memory.metrics,
                service="metrics",
                environment=self.settings.environment,
                emit=lambda line: None,
                clock=self.clock,
            )
        )

    def live_accuracy(self, limit: int) -> dict[str, Any]:
        self.accuracy_limits.append(limit)
        return live_accuracy(self.memory.articles, limit)

    def pipeline_stats(self) -> dict[str, int]:
        return self.topic.stats()

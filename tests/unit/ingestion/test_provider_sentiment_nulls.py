"""Finnhub's null sentiment figures through one ingestion cycle: the real adapter (respx, no
network) feeding `run_ingestion`. A symbol Finnhub has no figures for records no `finnhub`
sample and no error; the others still record theirs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import respx

from services.adapters.finnhub import FinnhubAdapter
from services.adapters.models import NewsArticle
from services.ingestion.run import IngestionDependencies, IngestionPolicy, run_ingestion
from services.resilience.guard import AllowAll
from services.store.memory import InMemoryArticleRepository, InMemorySentimentStore

pytestmark = pytest.mark.unit

BASE = "https://finnhub.test/api/v1"
NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
FIGURES = {
    "AAPL": {
        "buzz": {"articlesInLastWeek": 20, "buzz": 0.9, "weeklyAverage": 22.5},
        "companyNewsScore": 0.9,
        "sentiment": {"bearishPercent": 0.25, "bullishPercent": 0.75},
        "symbol": "AAPL",
    },
    "TOPS": {
        "buzz": {"articlesInLastWeek": 0, "buzz": None, "weeklyAverage": 0},
        "companyNewsScore": None,
        "sectorAverageBullishPercent": None,
        "sectorAverageNewsScore": None,
        "sentiment": None,
        "symbol": "TOPS",
    },
}


class NoNews:
    name = "tiingo"
    news_endpoint = "news"
    last_requests = 1

    def news_requests(self, tickers: Sequence[str]) -> int:
        return 1

    def fetch_news(
        self, tickers: Sequence[str], since: datetime, until: datetime | None = None
    ) -> list[NewsArticle]:
        return []


class Publisher:
    def publish(self, message: dict[str, Any]) -> str:
        return "1"


@respx.mock
def test_a_symbol_without_finnhub_figures_records_no_sample_and_no_error() -> None:
    respx.get(f"{BASE}/news-sentiment").mock(
        side_effect=lambda request: respx.MockResponse(
            200, json=FIGURES[request.url.params["symbol"]]
        )
    )
    articles = InMemoryArticleRepository(clock=lambda: NOW)
    deps = IngestionDependencies(
        news_sources=[NoNews()],
        sentiment_source=FinnhubAdapter(BASE, "secret-key", timeout_s=1.0),
        articles=articles,
        sentiment=InMemorySentimentStore(articles),
        publisher=Publisher(),
        guard=AllowAll(),
        clock=lambda: NOW,
        policy=IngestionPolicy(publish_batch_size=2, stale_pending_after=timedelta(minutes=10)),
    )

    summary = run_ingestion(["AAPL", "TOPS"], deps)

    assert "finnhub_sentiment" not in summary.errors
    assert summary.sentiment_samples == 1  # AAPL's figure; TOPS has none to record

"""The Finnhub adapter against recorded response shapes (respx; no network)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx

from services.adapters.errors import (
    ProviderAuthError,
    ProviderRateLimitedError,
    ProviderResponseError,
    ProviderUnavailableError,
)
from services.adapters.finnhub import FinnhubAdapter

pytestmark = pytest.mark.unit

BASE = "https://finnhub.test/api/v1"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"
SINCE = datetime(2026, 11, 20, tzinfo=UTC)
UNTIL = datetime(2026, 11, 24, 23, tzinfo=UTC)


def fixture(name: str) -> object:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def adapter() -> FinnhubAdapter:
    return FinnhubAdapter(BASE, "secret-key", timeout_s=1.0)


@respx.mock
def test_company_news_is_fetched_per_ticker_with_related_symbols(adapter) -> None:
    route = respx.get(f"{BASE}/company-news").respond(json=fixture("finnhub_company_news.json"))

    articles = adapter.fetch_news(["aapl", "GOOGL"], SINCE, UNTIL)

    assert len(route.calls) == 2
    assert [c.request.url.params["symbol"] for c in route.calls] == ["AAPL", "GOOGL"]
    request = route.calls[0].request
    assert request.headers["X-Finnhub-Token"] == "secret-key"
    assert (request.url.params["from"], request.url.params["to"]) == ("2026-11-20", "2026-11-24")
    first = articles[0]
    assert (first.provider, first.provider_id) == ("finnhub", "131553210")
    assert first.published_at == datetime.fromtimestamp(1795525511, UTC)
    assert first.description.startswith("Apple Inc. reported")
    assert articles[1].tickers == ("AAPL", "GOOGL")


@respx.mock
def test_news_sentiment_maps_the_documented_fields(adapter) -> None:
    respx.get(f"{BASE}/news-sentiment").respond(json=fixture("finnhub_news_sentiment.json"))

    figures = adapter.fetch_sentiment("AAPL")

    assert (figures.bullish_percent, figures.bearish_percent) == (0.75, 0.25)
    assert figures.articles_in_last_week == 20
    assert figures.weekly_average == 22.5
    assert figures.company_news_score == 0.9166


@respx.mock
def test_candles_arrive_as_columns_and_no_data_is_empty(adapter) -> None:
    respx.get(f"{BASE}/stock/candle").mock(
        side_effect=[
            httpx.Response(200, json=fixture("finnhub_candles.json")),
            httpx.Response(200, json={"s": "no_data"}),
        ]
    )

    candles = adapter.fetch_candles("AAPL", SINCE, UNTIL, "D")
    assert [c.close for c in candles] == [217.68, 221.03, 219.89]
    assert candles[0].timestamp == datetime.fromtimestamp(1795132800, UTC)
    assert adapter.fetch_candles("AAPL", SINCE, UNTIL, "D") == []


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, ProviderAuthError), (429, ProviderRateLimitedError), (502, ProviderUnavailableError)],
)
@respx.mock
def test_error_statuses_map_to_typed_errors(adapter, status, error) -> None:
    respx.get(f"{BASE}/news-sentiment").respond(status, json={"error": "API limit reached."})
    with pytest.raises(error) as raised:
        adapter.fetch_sentiment("AAPL")
    assert "API limit reached." in str(raised.value)
    assert "secret-key" not in str(raised.value)


@respx.mock
def test_unexpected_shapes_are_response_errors(adapter) -> None:
    respx.get(f"{BASE}/news-sentiment").respond(json={"sentiment": "bullish"})
    with pytest.raises(ProviderResponseError, match="unexpected shape"):
        adapter.fetch_sentiment("AAPL")
    respx.get(f"{BASE}/company-news").respond(json={"error": "oops"})
    with pytest.raises(ProviderResponseError, match="did not return a list"):
        adapter.fetch_news(["AAPL"], SINCE, UNTIL)

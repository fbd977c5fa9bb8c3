"""The Finnhub adapter against recorded response shapes (respx; no network)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx

from services.adapters.errors import (
    ProviderAuthError,
    ProviderNotEntitledError,
    ProviderRateLimitedError,
    ProviderResponseError,
    ProviderUnavailableError,
)
from services.adapters.finnhub import FinnhubAdapter
from services.resilience.breaker import counts_as_failure
from services.scoring.ensemble import finnhub_signal
from tests.unit.adapters.support import recorded

pytestmark = pytest.mark.unit

BASE = "https://finnhub.test/api/v1"
SINCE = datetime(2026, 11, 20, tzinfo=UTC)
UNTIL = datetime(2026, 11, 24, 23, tzinfo=UTC)


@pytest.fixture
def adapter() -> FinnhubAdapter:
    return FinnhubAdapter(BASE, "secret-key", timeout_s=1.0)


@respx.mock
def test_company_news_is_fetched_per_ticker_with_related_symbols(adapter) -> None:
    route = respx.get(f"{BASE}/company-news").respond(json=recorded("finnhub_company_news.json"))

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
    respx.get(f"{BASE}/news-sentiment").respond(json=recorded("finnhub_news_sentiment.json"))

    figures = adapter.fetch_sentiment("AAPL")

    assert (figures.bullish_percent, figures.bearish_percent) == (0.75, 0.25)
    assert figures.articles_in_last_week == 20
    assert figures.weekly_average == 22.5
    assert figures.company_news_score == 0.9166


@respx.mock
def test_candles_arrive_as_columns_and_no_data_is_empty(adapter) -> None:
    respx.get(f"{BASE}/stock/candle").mock(
        side_effect=[
            httpx.Response(200, json=recorded("finnhub_candles.json")),
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


# --- What real plans answer (issue "Real keys, real plans") ----------------------------------

# Finnhub's own words (finnhubio/Finnhub-API issues #493, #534, #466, #116).
NOT_IN_PLAN = "You don't have access to this resource."
OVER_LIMIT = "API limit reached. Please try again later. Remaining Limit: 0"


@pytest.mark.parametrize(
    ("path", "call", "endpoint"),
    [
        ("/stock/candle", lambda a: a.fetch_candles("AAPL", SINCE, UNTIL, "D"), "candles"),
        ("/news-sentiment", lambda a: a.fetch_sentiment("AAPL"), "news_sentiment"),
        ("/company-news", lambda a: a.fetch_news(["AAPL"], SINCE, UNTIL), "company_news"),
    ],
)
@respx.mock
def test_a_premium_endpoint_is_not_entitled_and_names_the_endpoint(
    adapter, path, call, endpoint
) -> None:
    respx.get(f"{BASE}{path}").respond(403, json={"error": NOT_IN_PLAN})

    with pytest.raises(ProviderNotEntitledError) as raised:
        call(adapter)

    error = raised.value
    assert (error.provider, error.endpoint, error.status) == ("finnhub", endpoint, 403)
    assert error.reason == NOT_IN_PLAN
    assert NOT_IN_PLAN in str(error) and "secret-key" not in str(error)
    assert not counts_as_failure(error)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, {"error": "Invalid API key"}),
        (401, {"error": NOT_IN_PLAN}),  # a 401 stays about the key, whatever it says
        (403, {"error": "Invalid API key"}),
        (403, {}),
    ],
)
@respx.mock
def test_a_refused_key_stays_an_auth_error(adapter, status, body) -> None:
    respx.get(f"{BASE}/stock/candle").respond(status, json=body)

    with pytest.raises(ProviderAuthError) as raised:
        adapter.fetch_candles("AAPL", SINCE, UNTIL, "D")

    assert raised.value.status == status
    assert counts_as_failure(raised.value)


@respx.mock
def test_over_the_limit_is_rate_limited_with_finnhubs_message(adapter) -> None:
    respx.get(f"{BASE}/news-sentiment").respond(
        429, json={"error": OVER_LIMIT}, headers={"Retry-After": "7"}
    )

    with pytest.raises(ProviderRateLimitedError) as raised:
        adapter.fetch_sentiment("AAPL")

    assert OVER_LIMIT in str(raised.value)
    assert (raised.value.status, raised.value.retry_after) == (429, 7.0)


@pytest.mark.parametrize(
    "body",
    [
        # As Finnhub answers for a thin symbol (Finnhub-API issue #116).
        {
            "buzz": {"articlesInLastWeek": 0, "buzz": None, "weeklyAverage": 0},
            "companyNewsScore": None,
            "sectorAverageBullishPercent": 0.5641,
            "sectorAverageNewsScore": 0.4807,
            "sentiment": None,
            "symbol": "TOPS",
        },
        {
            "buzz": None,
            "companyNewsScore": None,
            "sectorAverageBullishPercent": None,
            "sectorAverageNewsScore": None,
            "sentiment": {"bearishPercent": None, "bullishPercent": None},
            "symbol": "TOPS",
        },
        {"buzz": {}, "sentiment": {}, "symbol": ""},
    ],
)
@respx.mock
def test_null_sentiment_figures_parse_as_none_and_give_no_signal(adapter, body) -> None:
    respx.get(f"{BASE}/news-sentiment").respond(json=body)

    figures = adapter.fetch_sentiment("tops")

    assert figures.ticker == "TOPS"
    assert (figures.bullish_percent, figures.bearish_percent) == (None, None)
    assert figures.company_news_score is None and figures.buzz is None
    signal = finnhub_signal(
        figures.bullish_percent, figures.bearish_percent, figures.articles_in_last_week
    )
    assert signal.confidence == 0.0 and signal.score == 0.0


@respx.mock
def test_null_buzz_with_percentages_keeps_the_split_but_no_volume(adapter) -> None:
    respx.get(f"{BASE}/news-sentiment").respond(
        json={"buzz": None, "sentiment": {"bearishPercent": 0.2, "bullishPercent": 0.8}}
    )

    figures = adapter.fetch_sentiment("AAPL")

    assert (figures.bullish_percent, figures.bearish_percent) == (0.8, 0.2)
    assert figures.articles_in_last_week is None and figures.weekly_average is None
    assert finnhub_signal(0.8, 0.2, figures.articles_in_last_week).confidence == 0.0

"""The Tiingo adapter against recorded response shapes (respx; no network)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx

from services.adapters.errors import (
    ProviderAuthError,
    ProviderNotFoundError,
    ProviderRateLimitedError,
    ProviderResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from services.adapters.tiingo import PAGE_SIZE, TiingoAdapter

pytestmark = pytest.mark.unit

BASE = "https://tiingo.test"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"
SINCE = datetime(2026, 11, 24, tzinfo=UTC)


def fixture(name: str) -> object:
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture
def adapter() -> TiingoAdapter:
    return TiingoAdapter(BASE, "secret-key", timeout_s=1.0)


@respx.mock
def test_news_parses_the_documented_fields_and_skips_malformed_items(adapter) -> None:
    route = respx.get(f"{BASE}/tiingo/news").respond(json=fixture("tiingo_news.json"))

    articles = adapter.fetch_news(["AAPL", "MSFT"], SINCE)

    assert [a.provider_id for a in articles] == ["62751312", "62751377"]
    first = articles[0]
    assert first.provider == "tiingo"
    assert first.tickers == ("AAPL", "MSFT")
    assert first.published_at == datetime(2026, 11, 24, 13, 5, 11, 293000, tzinfo=UTC)
    assert first.source_name == "example-news.com"
    assert adapter.last_skipped == 1
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Token secret-key"
    assert request.url.params["tickers"] == "aapl,msft"
    assert request.url.params["startDate"] == "2026-11-24"
    assert "token" not in request.url.params  # the key travels in the header only


@respx.mock
def test_news_follows_pages_until_a_short_page(adapter) -> None:
    item = fixture("tiingo_news.json")[0]  # type: ignore[index]
    full_page = [{**item, "id": i} for i in range(PAGE_SIZE)]
    route = respx.get(f"{BASE}/tiingo/news").mock(
        side_effect=[httpx.Response(200, json=full_page), httpx.Response(200, json=[item])]
    )

    articles = adapter.fetch_news(["AAPL"], SINCE)

    assert len(articles) == PAGE_SIZE + 1
    offsets = [call.request.url.params["offset"] for call in route.calls]
    assert offsets == ["0", str(PAGE_SIZE)]


@respx.mock
def test_daily_prices_become_candles(adapter) -> None:
    respx.get(f"{BASE}/tiingo/daily/aapl/prices").respond(json=fixture("tiingo_daily.json"))

    candles = adapter.fetch_candles("AAPL", SINCE, SINCE, "D")

    assert [c.close for c in candles] == [228.02, 229.87]
    assert candles[0].timestamp == datetime(2026, 11, 20, tzinfo=UTC)
    assert candles[0].volume == 44923941


@respx.mock
def test_intraday_prices_use_the_iex_endpoint(adapter) -> None:
    route = respx.get(f"{BASE}/iex/aapl/prices").respond(
        json=[
            {
                "date": "2026-11-24T14:30:00.000Z",
                "open": 1,
                "high": 2,
                "low": 0.5,
                "close": 1.5,
                "volume": 100,
            }
        ]
    )

    candles = adapter.fetch_candles("AAPL", SINCE, SINCE, "5")

    assert route.calls.last.request.url.params["resampleFreq"] == "5min"
    assert candles[0].close == 1.5


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (401, {"detail": "Invalid token."}, ProviderAuthError),
        (404, {"detail": "Error: Ticker 'ZZZZ' not found"}, ProviderNotFoundError),
        (429, {"detail": "Error: hourly request allocation exceeded"}, ProviderRateLimitedError),
        (503, {"detail": "Service Unavailable"}, ProviderUnavailableError),
    ],
)
@respx.mock
def test_error_statuses_map_to_typed_errors(adapter, status, body, error) -> None:
    respx.get(f"{BASE}/tiingo/daily/zzzz/prices").respond(status, json=body)

    with pytest.raises(error) as raised:
        adapter.fetch_candles("ZZZZ", SINCE, SINCE, "D")

    assert raised.value.status == status
    assert body["detail"] in str(raised.value)
    assert "secret-key" not in str(raised.value)


@respx.mock
def test_rate_limit_carries_retry_after(adapter) -> None:
    respx.get(f"{BASE}/tiingo/news").respond(
        429, json={"detail": "slow down"}, headers={"Retry-After": "12"}
    )
    with pytest.raises(ProviderRateLimitedError) as raised:
        adapter.fetch_news(["AAPL"], SINCE)
    assert raised.value.retry_after == 12.0


@respx.mock
def test_timeouts_and_non_json_bodies_are_clear_errors(adapter) -> None:
    respx.get(f"{BASE}/tiingo/news").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderTimeoutError, match="timed out"):
        adapter.fetch_news(["AAPL"], SINCE)

    respx.get(f"{BASE}/tiingo/news").respond(200, text="<html>maintenance</html>")
    with pytest.raises(ProviderResponseError, match="invalid JSON"):
        adapter.fetch_news(["AAPL"], SINCE)

    respx.get(f"{BASE}/tiingo/news").respond(200, json={"detail": "not a list"})
    with pytest.raises(ProviderResponseError, match="did not return a list"):
        adapter.fetch_news(["AAPL"], SINCE)

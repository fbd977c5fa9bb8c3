"""The Tiingo adapter against recorded response shapes (respx; no network)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx

from services.adapters.errors import (
    ProviderAuthError,
    ProviderNotEntitledError,
    ProviderNotFoundError,
    ProviderQuotaExceededError,
    ProviderRateLimitedError,
    ProviderResponseError,
    ProviderTimeoutError,
    ProviderUnavailableError,
)
from services.adapters.tiingo import PAGE_SIZE, TiingoAdapter, seconds_to_period_end
from services.resilience.breaker import counts_as_failure
from tests.unit.adapters.support import recorded

pytestmark = pytest.mark.unit

BASE = "https://tiingo.test"
SINCE = datetime(2026, 11, 24, tzinfo=UTC)


@pytest.fixture
def adapter() -> TiingoAdapter:
    return TiingoAdapter(BASE, "secret-key", timeout_s=1.0)


@respx.mock
def test_news_parses_the_documented_fields_and_skips_malformed_items(adapter) -> None:
    route = respx.get(f"{BASE}/tiingo/news").respond(json=recorded("tiingo_news.json"))

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
    item = recorded("tiingo_news.json")[0]  # type: ignore[index]
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
    respx.get(f"{BASE}/tiingo/daily/aapl/prices").respond(json=recorded("tiingo_daily.json"))

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


# --- What real plans answer (issue "Real keys, real plans") ----------------------------------

# Tiingo's own words, as its free plan answers them (tiingo-python issues #37, #45).
NEWS_NOT_IN_PLAN = "You do not have permission to access the News API"
SYMBOLS_CAP = (
    "You have run over your 500 symbol look up for this month. "
    "Please upgrade at https://api.tiingo.com/pricing to have your limits increased."
)
HOURLY = (
    "Error: You have run over your hourly request allocation. "
    "Please upgrade at https://api.tiingo.com/pricing to have your limits increased."
)
DAILY = "Error: You have run over your daily request allocation."
BANDWIDTH = (
    "Error: You have run over your monthly bandwidth allocation. "
    "Please upgrade at https://api.tiingo.com/pricing to have your limits increased."
)
# 13:45:30 UTC on 30 Nov: 870 s to the hour, 36 870 s to midnight and to 1 December.
CLOCK_NOW = datetime(2026, 11, 30, 13, 45, 30, tzinfo=UTC)


@pytest.fixture
def clocked() -> TiingoAdapter:
    return TiingoAdapter(BASE, "secret-key", timeout_s=1.0, clock=lambda: CLOCK_NOW)


@respx.mock
def test_a_news_endpoint_outside_the_plan_is_not_entitled_and_names_the_endpoint(adapter) -> None:
    respx.get(f"{BASE}/tiingo/news").respond(403, json={"detail": NEWS_NOT_IN_PLAN})

    with pytest.raises(ProviderNotEntitledError) as raised:
        adapter.fetch_news(["AAPL"], SINCE)

    error = raised.value
    assert (error.provider, error.endpoint, error.status) == ("tiingo", "news", 403)
    assert error.reason == NEWS_NOT_IN_PLAN
    assert NEWS_NOT_IN_PLAN in str(error) and "secret-key" not in str(error)
    assert not isinstance(error, ProviderAuthError)
    assert not counts_as_failure(error)  # the key's prices still work: no circuit opens


@pytest.mark.parametrize(
    ("status", "detail", "error"),
    [
        (401, "Invalid token.", ProviderAuthError),
        (403, "Please supply a token", ProviderAuthError),
        (403, "None", ProviderAuthError),
        (
            403,
            "Error: Free and Power plans are limited to the DOW 30. If you would like access "
            "to all supported tickers, then please E-mail support@tiingo.com",
            ProviderNotEntitledError,
        ),
    ],
)
@respx.mock
def test_a_refused_key_and_a_plan_limit_are_told_apart(adapter, status, detail, error) -> None:
    respx.get(f"{BASE}/tiingo/daily/aapl/prices").respond(status, json={"detail": detail})

    with pytest.raises(error) as raised:
        adapter.fetch_candles("AAPL", SINCE, SINCE, "D")

    assert type(raised.value) is error
    assert raised.value.status == status and detail in str(raised.value)
    assert counts_as_failure(raised.value) == (error is ProviderAuthError)
    if error is ProviderNotEntitledError:
        assert raised.value.endpoint == "daily_prices"  # type: ignore[attr-defined]


@respx.mock
def test_a_200_in_plain_text_about_the_symbol_cap_is_a_quota_signal(clocked) -> None:
    respx.get(f"{BASE}/tiingo/daily/zbra/prices").respond(200, text=SYMBOLS_CAP)

    with pytest.raises(ProviderQuotaExceededError) as raised:
        clocked.fetch_candles("ZBRA", SINCE, SINCE, "D")

    error = raised.value
    assert isinstance(error, ProviderRateLimitedError)
    assert (error.scope, error.status, error.reason) == ("month_symbols", 200, SYMBOLS_CAP)
    assert error.retry_after == 10 * 3600 + 14 * 60 + 30  # to 1 December, 00:00 UTC
    assert SYMBOLS_CAP in str(error)


@pytest.mark.parametrize(
    ("body", "scope", "retry_after"),
    [
        ({"detail": HOURLY}, "hour", 14 * 60 + 30),
        ({"detail": DAILY}, "day", 10 * 3600 + 14 * 60 + 30),
        (HOURLY, "hour", 14 * 60 + 30),
        ({"detail": "Error: You have run over your 50 symbols"}, None, None),
    ],
)
@respx.mock
def test_a_200_news_answer_about_an_allocation_is_a_quota_signal(
    clocked, body, scope, retry_after
) -> None:
    route = respx.get(f"{BASE}/tiingo/news")
    if isinstance(body, str):
        route.respond(200, text=body)
    else:
        route.respond(200, json=body)

    with pytest.raises(ProviderQuotaExceededError) as raised:
        clocked.fetch_news(["AAPL"], SINCE)

    assert (raised.value.scope, raised.value.retry_after) == (scope, retry_after)
    assert raised.value.status == 200
    assert raised.value.reason == (body if isinstance(body, str) else body["detail"])


@respx.mock
def test_intraday_prices_read_the_same_limit_answers(clocked) -> None:
    respx.get(f"{BASE}/iex/aapl/prices").respond(200, json={"detail": DAILY})

    with pytest.raises(ProviderQuotaExceededError) as raised:
        clocked.fetch_candles("AAPL", SINCE, SINCE, "5")

    assert raised.value.scope == "day"


@respx.mock
def test_a_429_that_names_its_period_is_a_quota_signal_and_a_header_wins(clocked) -> None:
    route = respx.get(f"{BASE}/tiingo/daily/aapl/prices")
    route.respond(429, json={"detail": BANDWIDTH})
    with pytest.raises(ProviderQuotaExceededError) as raised:
        clocked.fetch_candles("AAPL", SINCE, SINCE, "D")
    assert (raised.value.scope, raised.value.status) == ("month_bandwidth", 429)
    assert raised.value.retry_after == 10 * 3600 + 14 * 60 + 30

    route.respond(429, json={"detail": HOURLY}, headers={"Retry-After": "120"})
    with pytest.raises(ProviderQuotaExceededError) as raised:
        clocked.fetch_candles("AAPL", SINCE, SINCE, "D")
    assert (raised.value.scope, raised.value.retry_after) == ("hour", 120.0)

    route.respond(429, json={"detail": "Error: rate limit exceeded"}, headers={"Retry-After": "30"})
    with pytest.raises(ProviderRateLimitedError) as plain:
        clocked.fetch_candles("AAPL", SINCE, SINCE, "D")
    assert not isinstance(plain.value, ProviderQuotaExceededError)
    assert plain.value.retry_after == 30.0


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("<html><body>502 Bad Gateway</body></html>", "invalid JSON"),
        ("", "invalid JSON"),
        ('{"detail": "Not found."}', "did not return a list"),
        ('{"unexpected": true}', "did not return a list"),
        ('"a JSON string"', "did not return a list"),
    ],
)
@respx.mock
def test_a_200_that_is_neither_data_nor_a_limit_stays_a_response_error(
    clocked, body, match
) -> None:
    respx.get(f"{BASE}/tiingo/news").respond(200, text=body)

    with pytest.raises(ProviderResponseError, match=match) as raised:
        clocked.fetch_news(["AAPL"], SINCE)

    assert not isinstance(raised.value, ProviderRateLimitedError)


@pytest.mark.parametrize(
    ("scope", "now", "seconds"),
    [
        ("hour", datetime(2026, 11, 30, 14, 0, tzinfo=UTC), 3600),
        ("day", datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC), 30),
        ("month_symbols", datetime(2026, 12, 31, 12, 0, tzinfo=UTC), 12 * 3600),
        ("month_bandwidth", datetime(2027, 2, 1, 0, 0, tzinfo=UTC), 28 * 86400),
    ],
)
def test_a_period_ends_at_its_next_utc_boundary(scope, now, seconds) -> None:
    assert seconds_to_period_end(scope, now) == seconds

"""The market routes over HTTP on the embedded stack with the news pipeline: a configuration's
sentiment checked against the bucket items themselves, price candles against the Tiingo
emulator (through the same adapter), both cache layers, the error contract, and a Tiingo
outage with and without a cached copy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from boto3.dynamodb.conditions import Key

from services.analysis.buckets import Resolution, bucket_label, bucket_start
from services.clock import iso, parse_iso
from services.composition.providers import tiingo_adapter
from services.local.stack import LocalStack
from services.market.signals import confidence_for
from services.market.universe import TickerUniverse
from services.scoring.ensemble import SourceSignal, combine
from services.settings import Settings
from services.store import keys
from services.store.table import dynamodb_table
from tests.e2e.api_support import api_stack, error_code, function_instance, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

TICKERS = ["AAPL", "MSFT", "JPM"]
SOURCES = ("tiingo", "finnhub", "our_model")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[LocalStack]:
    settings = Settings(default_watchlist=",".join(TICKERS))
    with api_stack(
        root, tmp_path_factory.mktemp("state"), settings=settings, pipeline=True, schedules=False
    ) as running:
        pipeline = running.pipeline
        assert pipeline is not None and pipeline.topic is not None and pipeline.tiingo
        # Stories published now, so the current hour's buckets hold data too.
        for ticker in TICKERS:
            injected = httpx.post(
                f"{pipeline.tiingo.root_url}/_emulator/news", json={"ticker": ticker, "count": 4}
            )
            assert injected.status_code == 201, injected.text
        summary = pipeline.run_ingestion_now()
        assert summary["new"] > 0 and summary["errors"] == {}, summary
        assert pipeline.topic.drain(timeout_s=180)
        yield running


def table(stack: LocalStack) -> Any:
    return dynamodb_table(stack.settings)  # type: ignore[arg-type]


def bucket_items(
    stack: LocalStack, ticker: str, source: str, resolution: Resolution, start: str, end: str
) -> list[dict[str, Any]]:
    """The bucket items of one series whose start lies in [start, end], read directly."""
    low = bucket_label(bucket_start(parse_iso(start), resolution), resolution)
    high = bucket_label(bucket_start(parse_iso(end), resolution), resolution)
    pk = keys.sentiment_bucket(ticker, source, resolution, "")["PK"]
    response = table(stack).query(
        KeyConditionExpression=Key("PK").eq(pk)
        & Key("SK").between(f"{resolution}#{low}", f"{resolution}#{high}"),
        ConsistentRead=True,
    )
    assert "LastEvaluatedKey" not in response
    return [i for i in response["Items"] if int(i["count"]) > 0]


def pooled(items: list[dict[str, Any]]) -> tuple[int, float]:
    return sum(int(i["count"]) for i in items), sum(float(i["score_sum"]) for i in items)


def weighted(items: list[dict[str, Any]]) -> tuple[float, float]:
    """Sum of relevance and of relevance * score (a bucket without them counts fully)."""
    weight = sum(float(i.get("weight_sum", i["count"])) for i in items)
    total = sum(float(i.get("weighted_sum", i["score_sum"])) for i in items)
    return weight, total


def weighted_average(item: dict[str, Any]) -> float:
    weight, total = weighted([item])
    return total / weight if weight else float(item["score_sum"]) / int(item["count"])


def create_configuration(client: httpx.Client, headers: dict[str, str], tickers: list[str]) -> str:
    response = client.post(
        "/api/v2/configurations", headers=headers, json={"name": "market", "tickers": tickers}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["config_id"])


@contextmanager
def tiingo_failing(stack: LocalStack) -> Iterator[None]:
    assert stack.pipeline is not None and stack.pipeline.tiingo is not None
    faults = f"{stack.pipeline.tiingo.root_url}/_emulator/faults"
    response = httpx.post(faults, json={"mode": "http_500", "duration_s": 30})
    assert response.status_code == 200, response.text
    try:
        yield
    finally:
        httpx.delete(faults)


# --- a configuration's sentiment ----------------------------------------------------------


def test_configuration_sentiment_is_the_true_average_of_the_buckets(stack, client) -> None:
    headers = sign_in(client)
    config_id = create_configuration(client, headers, TICKERS)
    response = client.get(f"/api/v2/configurations/{config_id}/sentiment", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["X-Cache"] == "miss"
    body = response.json()
    assert body["config_id"] == config_id and body["cache_status"] == "miss"
    assert [t["symbol"] for t in body["tickers"]] == TICKERS
    assert parse_iso(body["last_updated"]) <= datetime.now(UTC)

    statuses: dict[str, set[str]] = {"tiingo": set(), "finnhub": set()}
    for ticker in body["tickers"]:
        sentiment = ticker["sentiment"]
        signals = {}
        for source in SOURCES:
            entry = sentiment[source]
            items = bucket_items(
                stack,
                ticker["symbol"],
                source,
                entry["resolution"],
                entry["window_start"],
                entry["window_end"],
            )
            count, _ = pooled(items)
            weight, weighted_total = weighted(items)
            assert entry["count"] == count, (ticker["symbol"], source)
            # Relevance-weighted: stories that merely list the ticker barely count.
            expected = max(-1.0, min(1.0, weighted_total / weight)) if count else 0.0
            assert entry["score"] == pytest.approx(expected, abs=1e-6)
            if count:
                assert entry["relevance"] == pytest.approx(min(1.0, weight / count), abs=1e-6)
                assert 0 < entry["relevance"] <= 1
            else:
                assert entry["relevance"] is None
            assert entry["confidence"] == pytest.approx(confidence_for(source, count), abs=1e-6)
            if count:
                assert entry["min_score"] == pytest.approx(
                    min(float(i["min_score"]) for i in items)
                )
                assert entry["max_score"] == pytest.approx(
                    max(float(i["max_score"]) for i in items)
                )
                signals[source] = SourceSignal(entry["score"], entry["confidence"], count)
            if entry["resolution"] == "D":
                # The daily fallback is used only when the last 24 hours are empty.
                hours = bucket_items(
                    stack,
                    ticker["symbol"],
                    source,
                    "H",
                    iso(parse_iso(entry["window_end"]) - timedelta(hours=23)),
                    entry["window_end"],
                )
                assert hours == []
                assert entry["status"] == ("degraded" if count else "unavailable")
            else:
                assert count > 0 and entry["status"] == "ok"
            if source in statuses:
                statuses[source].add(entry["status"])
        aggregated = sentiment["aggregated"]
        expected_result = combine(signals)
        assert aggregated["score"] == pytest.approx(expected_result.score, abs=1e-5)
        assert aggregated["confidence"] == pytest.approx(expected_result.confidence, abs=1e-5)
        assert aggregated["label"] == expected_result.label
        assert aggregated["used"] == sorted(signals)
        assert aggregated["missing"] == sorted(set(SOURCES) - set(signals))
        assert aggregated["count"] == sum(s.count for s in signals.values())
    # Every ticker got fresh stories and our model scored them.
    assert all(t["sentiment"]["our_model"]["status"] == "ok" for t in body["tickers"])
    assert all(t["sentiment"]["aggregated"]["confidence"] > 0 for t in body["tickers"])
    for provider, seen in statuses.items():
        best = "ok" if "ok" in seen else "degraded" if "degraded" in seen else "unavailable"
        assert body["source_status"][provider] == best
    assert body["source_status"] == {"tiingo": "ok", "finnhub": "ok"}

    again = client.get(f"/api/v2/configurations/{config_id}/sentiment", headers=headers)
    assert again.status_code == 200 and again.headers["X-Cache"] == "hit"
    assert again.json() == {**body, "cache_status": "hit"}


def test_an_edited_configuration_is_not_served_from_the_old_entry(client) -> None:
    headers = sign_in(client)
    config_id = create_configuration(client, headers, ["AAPL"])
    path = f"/api/v2/configurations/{config_id}/sentiment"
    assert client.get(path, headers=headers).headers["X-Cache"] == "miss"
    assert client.get(path, headers=headers).headers["X-Cache"] == "hit"
    patched = client.patch(
        f"/api/v2/configurations/{config_id}", headers=headers, json={"tickers": ["MSFT"]}
    )
    assert patched.status_code == 200, patched.text
    after = client.get(path, headers=headers)
    assert after.headers["X-Cache"] == "miss"
    assert [t["symbol"] for t in after.json()["tickers"]] == ["MSFT"]


def test_a_ticker_without_data_is_neutral_with_its_sources_missing(stack, client) -> None:
    quiet = quiet_symbol(stack)
    headers = sign_in(client)
    config_id = create_configuration(client, headers, [quiet])
    body = client.get(f"/api/v2/configurations/{config_id}/sentiment", headers=headers).json()
    (ticker,) = body["tickers"]
    for source in SOURCES:
        entry = ticker["sentiment"][source]
        assert (entry["score"], entry["label"], entry["confidence"], entry["count"]) == (
            0.0,
            "neutral",
            0.0,
            0,
        )
        assert entry["status"] == "unavailable"
    aggregated = ticker["sentiment"]["aggregated"]
    assert (aggregated["score"], aggregated["confidence"], aggregated["used"]) == (0.0, 0.0, [])
    assert sorted(aggregated["missing"]) == sorted(SOURCES)
    assert body["source_status"] == {"tiingo": "unavailable", "finnhub": "unavailable"}


def test_sentiment_needs_the_owners_bearer(client) -> None:
    owner = sign_in(client)
    config_id = create_configuration(client, owner, ["AAPL"])
    path = f"/api/v2/configurations/{config_id}/sentiment"
    anonymous = client.get(path)
    assert anonymous.status_code == 401 and error_code(anonymous) == "UNAUTHORIZED"
    stranger = client.get(path, headers=sign_in(client))
    assert stranger.status_code == 404 and error_code(stranger) == "NOT_FOUND"
    absent = client.get("/api/v2/configurations/no-such-config/sentiment", headers=owner)
    assert absent.status_code == 404 and error_code(absent) == "NOT_FOUND"


# --- price candles ------------------------------------------------------------------------


def expected_candles(
    stack: LocalStack, ticker: str, body: dict[str, Any], resolution: Any
) -> list[dict[str, Any]]:
    """What the Tiingo emulator serves for the same days, through the same adapter."""
    adapter = tiingo_adapter(stack.settings)  # type: ignore[arg-type]
    try:
        start = datetime.fromisoformat(body["start_date"]).replace(tzinfo=UTC)
        end = datetime.fromisoformat(body["end_date"]).replace(tzinfo=UTC)
        candles = adapter.fetch_candles(ticker, start, end, resolution)
    finally:
        adapter.close()
    daily = resolution == "D"
    return [
        {
            "date": c.timestamp.date().isoformat()
            if daily
            else c.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "open": c.open,
            "high": c.high,
            "low": c.low,
            "close": c.close,
            "volume": c.volume,
        }
        for c in sorted(candles, key=lambda c: c.timestamp)
    ]


@pytest.mark.parametrize(("range_name", "resolution"), [("1M", "D"), ("1W", "60")])
def test_candles_are_what_tiingo_serves_then_l1_then_l2(
    stack, client, range_name: str, resolution: str
) -> None:
    path = f"/api/v2/tickers/aapl/ohlc?range={range_name}&resolution={resolution}"
    first = client.get(path, headers=sign_in(client))  # a fetch needs a session
    assert first.status_code == 200, first.text
    assert first.headers["X-Cache"] == "miss"
    body = first.json()
    assert (body["ticker"], body["source"], body["cache_layer"], body["stale"]) == (
        "AAPL",
        "tiingo",
        "provider",
        False,
    )
    assert (body["range"], body["resolution"], body["range_limited"]) == (
        range_name,
        resolution,
        False,
    )
    days = {"1W": 7, "1M": 30}[range_name]
    assert body["end_date"] == datetime.now(UTC).date().isoformat()
    assert body["start_date"] == (datetime.now(UTC) - timedelta(days=days)).date().isoformat()
    assert body["candles"] == expected_candles(stack, "AAPL", body, resolution)
    assert body["count"] == len(body["candles"]) > 0

    second = client.get(path)  # a cached answer does not
    assert second.headers["X-Cache"] == "hit"
    assert second.json() == {**body, "cache_layer": "l1"}

    item = table(stack).get_item(Key=keys.ohlc_cache("AAPL", resolution, range_name))["Item"]
    now = datetime.now(UTC)
    assert int(item["expires_at"]) > parse_iso(str(item["fresh_until"])).timestamp()
    assert parse_iso(str(item["fresh_until"])) > now
    assert int(item["count"]) == body["count"]

    with function_instance(stack.settings, table(stack)) as other:
        shared = other.get(path)
        assert shared.status_code == 200 and shared.headers["X-Cache"] == "hit"
        assert shared.json() == {**body, "cache_layer": "l2"}
        assert other.get(path).json()["cache_layer"] == "l1"


def test_a_tiingo_outage_is_503_with_retry_after_unless_a_copy_is_stored(stack, client) -> None:
    session = sign_in(client)
    primed = client.get("/api/v2/tickers/JPM/ohlc?range=6M&resolution=D", headers=session)
    assert primed.status_code == 200 and primed.json()["cache_layer"] == "provider"
    # The stored copy is past its freshness, so a new instance asks Tiingo first.
    table(stack).update_item(
        Key=keys.ohlc_cache("JPM", "D", "6M"),
        UpdateExpression="SET fresh_until = :past",
        ExpressionAttributeValues={":past": iso(datetime.now(UTC) - timedelta(minutes=1))},
    )
    with tiingo_failing(stack):
        down = client.get("/api/v2/tickers/MSFT/ohlc?range=3M&resolution=D", headers=session)
        assert down.status_code == 503, down.text
        assert error_code(down) == "PROVIDER_UNAVAILABLE"
        assert int(down.headers["Retry-After"]) > 0
        assert "MSFT" in down.json()["error"]["message"]

        with function_instance(stack.settings, table(stack)) as other:
            stale = other.get("/api/v2/tickers/JPM/ohlc?range=6M&resolution=D")
            assert stale.status_code == 200, stale.text
            assert stale.headers["X-Cache"] == "hit"
            body = stale.json()
            assert (body["cache_layer"], body["stale"]) == ("l2", True)
            assert body["candles"] == primed.json()["candles"]

    recovered = client.get("/api/v2/tickers/MSFT/ohlc?range=3M&resolution=D", headers=session)
    assert recovered.status_code == 200 and recovered.json()["cache_layer"] == "provider"


def test_unknown_tickers_and_bad_parameters_get_the_error_envelope(client) -> None:
    for path in ("/api/v2/tickers/ZZZZZ/ohlc", "/api/v2/tickers/zzzzz/sentiment/history"):
        response = client.get(path)
        assert response.status_code == 404 and error_code(response) == "UNKNOWN_TICKER"
        assert "ZZZZZ" in response.json()["error"]["message"]
    for params, named in (({"range": "2W"}, "1W"), ({"resolution": "7"}, "60")):
        response = client.get("/api/v2/tickers/AAPL/ohlc", params=params)
        assert response.status_code == 400 and error_code(response) == "BAD_PARAMETER"
        assert named in response.json()["error"]["message"]
    for params in ({"source": "twitter"}, {"range": "5Y"}):
        response = client.get("/api/v2/tickers/AAPL/sentiment/history", params=params)
        assert response.status_code == 400 and error_code(response) == "BAD_PARAMETER"


def test_a_range_too_long_for_minute_candles_is_served_as_the_longest_it_allows(client) -> None:
    response = client.get(
        "/api/v2/tickers/NVDA/ohlc",
        params={"range": "1Y", "resolution": "1"},
        headers=sign_in(client),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["range"], body["range_limited"], body["resolution"]) == ("1W", True, "1")
    assert body["start_date"] == (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
    week = client.get("/api/v2/tickers/NVDA/ohlc", params={"range": "1W", "resolution": "1"})
    assert week.headers["X-Cache"] == "hit"
    assert week.json()["candles"] == body["candles"] and week.json()["range_limited"] is False


# --- sentiment history --------------------------------------------------------------------


@pytest.mark.parametrize(("range_name", "resolution"), [("1M", "D"), ("1W", "H")])
@pytest.mark.parametrize("source", ["our_model", "tiingo", "finnhub"])
def test_history_of_one_source_is_its_buckets(
    stack, client, source: str, range_name: str, resolution: str
) -> None:
    response = client.get(
        "/api/v2/tickers/AAPL/sentiment/history", params={"range": range_name, "source": source}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["ticker"], body["source"], body["resolution"]) == ("AAPL", source, resolution)
    items = bucket_items(stack, "AAPL", source, resolution, body["start"], body["end"])
    expected = []
    for item in sorted(items, key=lambda i: i["SK"]):
        count = int(item["count"])
        label = str(item["bucket_start"])
        date = label if resolution == "D" else label.replace("Z", ":00Z")
        expected.append((date, count, weighted_average(item), source))
    got = [(p["date"], p["count"], p["score"], p["source"]) for p in body["history"]]
    assert [g[:2] for g in got] == [e[:2] for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert g[2] == pytest.approx(e[2], abs=1e-6) and g[3] == e[3]
    assert body["count"] == len(body["history"]) > 0
    for point in body["history"]:
        expected_confidence = confidence_for(source, point["count"])
        assert point["confidence"] == pytest.approx(expected_confidence, abs=1e-6)


def test_aggregated_history_combines_the_sources_per_date(stack, client) -> None:
    body = client.get("/api/v2/tickers/MSFT/sentiment/history", params={"range": "1M"}).json()
    assert body["source"] == "aggregated" and body["count"] > 0
    by_source = {
        source: {
            str(i["bucket_start"]): i
            for i in bucket_items(stack, "MSFT", source, "D", body["start"], body["end"])
        }
        for source in SOURCES
    }
    assert [p["date"] for p in body["history"]] == sorted(
        set().union(*(set(items) for items in by_source.values()))
    )
    for point in body["history"]:
        present = {
            s: items[point["date"]] for s, items in by_source.items() if point["date"] in items
        }
        signals = {
            s: SourceSignal(
                weighted_average(i),
                confidence_for(s, int(i["count"])),
                int(i["count"]),
            )
            for s, i in present.items()
        }
        expected = combine(signals)
        assert point["score"] == pytest.approx(expected.score, abs=1e-6)
        assert point["confidence"] == pytest.approx(expected.confidence, abs=1e-6)
        assert point["count"] == sum(s.count for s in signals.values())
        assert point["source"] == "aggregated"


def test_a_ticker_without_data_has_an_empty_history(stack, client) -> None:
    quiet = quiet_symbol(stack)
    response = client.get(f"/api/v2/tickers/{quiet}/sentiment/history", params={"range": "1Y"})
    assert response.status_code == 200
    assert (response.json()["history"], response.json()["count"]) == ([], 0)


def quiet_symbol(stack: LocalStack) -> str:
    """A listed ticker no story mentioned, so it has no buckets."""
    items = table(stack)
    for symbol in TickerUniverse.load().symbols:
        found = items.query(
            KeyConditionExpression=Key("PK").eq(f"SENTIMENT#{symbol}#our_model"), Limit=1
        )
        if symbol not in TICKERS and not found["Items"]:
            return symbol
    raise AssertionError("every listed ticker has sentiment data")

"""Price-sentiment overlay: OHLC candles and sentiment history of several tickers over several
ranges (AAPL, MSFT, NVDA over 1W, 1M, 3M by default), each answer's shape checked against the
contract (API.md): fields present, counts matching, candles consistent, scores in [-1, 1]."""

from __future__ import annotations

from typing import Any

from services.traffic.client import TrafficClient
from services.traffic.scenarios.base import Options, ScenarioResult, price_and_history

NAME = "price-sentiment"
DESCRIPTION = "OHLC + sentiment history per ticker and range, response shapes validated"

OHLC_FIELDS = {"ticker", "candles", "count", "start_date", "end_date", "source"}
CANDLE_FIELDS = {"date", "open", "high", "low", "close", "volume"}
HISTORY_FIELDS = {"ticker", "source", "history", "count"}
POINT_FIELDS = {"date", "score", "label", "confidence", "count", "source"}
LABELS = {"positive", "neutral", "negative"}


def ohlc_problems(body: Any, ticker: str) -> list[str]:
    """What is wrong with an OHLC answer's shape (empty when nothing is)."""
    if not isinstance(body, dict):
        return ["not a JSON object"]
    problems = [f"missing {f}" for f in sorted(OHLC_FIELDS - set(body))]
    candles = body.get("candles")
    if body.get("ticker") != ticker:
        problems.append(f"ticker {body.get('ticker')!r} is not {ticker}")
    if not isinstance(candles, list):
        return [*problems, "candles is not a list"]
    if body.get("count") != len(candles):
        problems.append(f"count {body.get('count')} != {len(candles)} candles")
    for candle in candles:
        missing = CANDLE_FIELDS - set(candle) if isinstance(candle, dict) else CANDLE_FIELDS
        if missing:
            problems.append(f"a candle lacks {sorted(missing)}")
            break
        low, high = candle["low"], candle["high"]
        if (
            not low
            <= min(candle["open"], candle["close"])
            <= max(candle["open"], candle["close"])
            <= high
            or candle["volume"] < 0
        ):
            problems.append(f"candle {candle['date']} is inconsistent")
            break
    dates = [c["date"] for c in candles if isinstance(c, dict) and "date" in c]
    if dates != sorted(dates):
        problems.append("candles are not in date order")
    return problems


def history_problems(body: Any, ticker: str, source: str) -> list[str]:
    if not isinstance(body, dict):
        return ["not a JSON object"]
    problems = [f"missing {f}" for f in sorted(HISTORY_FIELDS - set(body))]
    if body.get("ticker") != ticker or body.get("source") != source:
        problems.append(f"answer is for {body.get('ticker')}/{body.get('source')}")
    points = body.get("history")
    if not isinstance(points, list):
        return [*problems, "history is not a list"]
    if body.get("count") != len(points):
        problems.append(f"count {body.get('count')} != {len(points)} points")
    for point in points:
        missing = POINT_FIELDS - set(point) if isinstance(point, dict) else POINT_FIELDS
        if missing:
            problems.append(f"a point lacks {sorted(missing)}")
            break
        if not -1 <= point["score"] <= 1 or not 0 <= point["confidence"] <= 1:
            problems.append(f"point {point['date']} is out of range")
            break
        if point["label"] not in LABELS:
            problems.append(f"point {point['date']} has label {point['label']!r}")
            break
    return problems


async def run(client: TrafficClient, options: Options, result: ScenarioResult) -> None:
    recorder = client.recorder
    pairs = [(t, r) for t in options.tickers for r in options.ranges]
    recorder.step("creating an anonymous session", total=1 + 2 * len(pairs))
    bearer = await client.anonymous_session()
    if not result.check("anonymous session", bearer is not None):
        return
    shapes: dict[str, dict[str, Any]] = {}
    for ticker, range_name in pairs:
        recorder.step(f"{ticker} {range_name}")
        ohlc, history = await price_and_history(
            client, ticker, range_name, options.history_source, bearer
        )
        key = f"{ticker} {range_name}"
        ohlc_issues = ohlc_problems(ohlc.body, ticker) if ohlc.ok else [f"HTTP {ohlc.status}"]
        history_issues = (
            history_problems(history.body, ticker, options.history_source)
            if history.ok
            else [f"HTTP {history.status}"]
        )
        result.check(f"{key} OHLC shape", not ohlc_issues, "; ".join(ohlc_issues))
        result.check(f"{key} history shape", not history_issues, "; ".join(history_issues))
        shapes[key] = {
            "candles": ohlc.body.get("count") if isinstance(ohlc.body, dict) else None,
            "history_points": history.body.get("count") if isinstance(history.body, dict) else None,
            "ohlc_cache": ohlc.record.cache,
        }
    result.details["answers"] = shapes
    result.details["valid_shapes"] = sum(c.passed for c in result.checks) - 1
    result.details["shapes_checked"] = 2 * len(pairs)

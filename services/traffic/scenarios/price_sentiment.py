"""Price-sentiment overlay: OHLC candles and sentiment history of several tickers over several
ranges (AAPL, MSFT, NVDA over 1W, 1M, 3M by default), each answer's shape checked against the
contract (API.md): fields present, counts matching, candles consistent, scores in [-1, 1]."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Listing:
    """What an answer that lists items must hold: its `fields`, a list under `key` whose
    length is its `count`, and `item_fields` in every item (an `item`, named in messages)."""

    fields: frozenset[str]
    key: str
    item_fields: frozenset[str]
    item: str


_CANDLES = _Listing(frozenset(OHLC_FIELDS), "candles", frozenset(CANDLE_FIELDS), "candle")
_POINTS = _Listing(frozenset(HISTORY_FIELDS), "history", frozenset(POINT_FIELDS), "point")


def _listing_problems(
    body: dict[str, Any],
    listing: _Listing,
    wrong_answer: str | None,
    item_problem: Callable[[dict[str, Any]], str | None],
) -> tuple[list[str], list[Any] | None]:
    """What is wrong with a listing's shape, its `wrong_answer` (another ticker's, say) after
    the missing fields, and the first item that lacks fields or has an `item_problem`; the
    list, or None when `key` holds none."""
    problems = [f"missing {f}" for f in sorted(listing.fields - set(body))]
    if wrong_answer is not None:
        problems.append(wrong_answer)
    items = body.get(listing.key)
    if not isinstance(items, list):
        return [*problems, f"{listing.key} is not a list"], None
    if body.get("count") != len(items):
        problems.append(f"count {body.get('count')} != {len(items)} {listing.item}s")
    for item in items:
        missing = listing.item_fields - set(item) if isinstance(item, dict) else listing.item_fields
        problem = f"a {listing.item} lacks {sorted(missing)}" if missing else item_problem(item)
        if problem is not None:
            problems.append(problem)
            break
    return problems, items


def _candle_problem(candle: dict[str, Any]) -> str | None:
    low, high = candle["low"], candle["high"]
    if (
        not low
        <= min(candle["open"], candle["close"])
        <= max(candle["open"], candle["close"])
        <= high
        or candle["volume"] < 0
    ):
        return f"candle {candle['date']} is inconsistent"
    return None


def _point_problem(point: dict[str, Any]) -> str | None:
    if not -1 <= point["score"] <= 1 or not 0 <= point["confidence"] <= 1:
        return f"point {point['date']} is out of range"
    if point["label"] not in LABELS:
        return f"point {point['date']} has label {point['label']!r}"
    return None


def ohlc_problems(body: Any, ticker: str) -> list[str]:
    """What is wrong with an OHLC answer's shape (empty when nothing is)."""
    if not isinstance(body, dict):
        return ["not a JSON object"]
    answered = body.get("ticker")
    wrong = None if answered == ticker else f"ticker {answered!r} is not {ticker}"
    problems, candles = _listing_problems(body, _CANDLES, wrong, _candle_problem)
    if candles is None:
        return problems
    dates = [c["date"] for c in candles if isinstance(c, dict) and "date" in c]
    if dates != sorted(dates):
        problems.append("candles are not in date order")
    return problems


def history_problems(body: Any, ticker: str, source: str) -> list[str]:
    if not isinstance(body, dict):
        return ["not a JSON object"]
    answered = (body.get("ticker"), body.get("source"))
    wrong = None if answered == (ticker, source) else f"answer is for {answered[0]}/{answered[1]}"
    return _listing_problems(body, _POINTS, wrong, _point_problem)[0]


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

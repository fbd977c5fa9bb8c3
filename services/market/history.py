"""A ticker's sentiment over a range, one point per bucket: one source's relevance-weighted
averages, or the ensemble of the sources per bucket (`aggregated`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from services.analysis.buckets import Bucket, Resolution
from services.market.ranges import RangeName, Window, history_resolution, range_window
from services.market.sentiment_view import BucketReader
from services.market.signals import SOURCES, confidence_for
from services.scoring.ensemble import SourceSignal, combine, label_for

HistorySource = Literal["aggregated", "tiingo", "finnhub", "our_model"]
HISTORY_SOURCES: tuple[HistorySource, ...] = get_args(HistorySource)


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    at: datetime  # start of the bucket
    score: float
    label: str
    confidence: float
    count: int
    source: str


@dataclass(frozen=True, slots=True)
class SentimentHistory:
    ticker: str
    source: HistorySource
    resolution: Resolution
    window: Window
    points: tuple[HistoryPoint, ...]


def point_of(bucket: Bucket) -> HistoryPoint:
    score = max(-1.0, min(1.0, bucket.weighted_average))
    return HistoryPoint(
        at=bucket.start,
        score=score,
        label=label_for(score),
        confidence=confidence_for(bucket.source, bucket.count),
        count=bucket.count,
        source=bucket.source,
    )


def aggregate_points(series: Mapping[str, Iterable[Bucket]]) -> list[HistoryPoint]:
    """Per bucket start, the ensemble of whichever sources have data then; its count is the
    observations of the sources used (articles, and Finnhub samples)."""
    by_start: dict[datetime, dict[str, Bucket]] = {}
    for source, buckets in series.items():
        for bucket in buckets:
            if bucket.count > 0:
                by_start.setdefault(bucket.start, {})[source] = bucket
    points: list[HistoryPoint] = []
    for start in sorted(by_start):
        present = by_start[start]
        signals = {
            name: SourceSignal(
                max(-1.0, min(1.0, b.weighted_average)), confidence_for(name, b.count), b.count
            )
            for name, b in present.items()
        }
        result = combine(signals)
        if not result.used:
            continue
        points.append(
            HistoryPoint(
                at=start,
                score=result.score,
                label=result.label,
                confidence=result.confidence,
                count=sum(present[name].count for name in result.used),
                source="aggregated",
            )
        )
    return points


def sentiment_history(
    reader: BucketReader,
    ticker: str,
    range_name: RangeName,
    source: HistorySource,
    now: datetime,
) -> SentimentHistory:
    window = range_window(range_name, now)
    resolution = history_resolution(range_name)

    def read(name: str) -> list[Bucket]:
        return reader.history(ticker, name, resolution, window.start, window.end)

    if source == "aggregated":
        points = aggregate_points({name: read(name) for name in SOURCES})
    else:
        points = [point_of(b) for b in sorted(read(source), key=lambda b: b.start) if b.count > 0]
    return SentimentHistory(ticker, source, resolution, window, tuple(points))

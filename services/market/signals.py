"""From sentiment buckets to per-source signals: window averages, confidence, source status.

Pure functions over `Bucket`s, so the rules are tested without a table. Every average is
pooled over the buckets of a window (never an average of averages), so a busy hour weighs as
much as its articles. The score is relevance-weighted: sum(relevance * score) / sum(relevance)
(`services.scoring.relevance`), so stories that merely list a ticker barely move it; buckets
from before relevance count each article fully, which makes that the plain sum/count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.adapters.plans import Endpoint
from services.analysis.buckets import Bucket, Resolution, bucket_start
from services.scoring.ensemble import SourceSignal, label_for

Source = Literal["tiingo", "finnhub", "our_model"]
SOURCES: tuple[Source, ...] = ("tiingo", "finnhub", "our_model")
# The two providers whose health the dashboard shows (our model is fed by both).
PROVIDERS: tuple[Source, ...] = ("tiingo", "finnhub")
# `not_entitled`: the key's plan does not include the provider endpoint the source needs.
Status = Literal["ok", "degraded", "unavailable", "not_entitled"]
# The provider endpoint each provider's source is fed by.
SOURCE_ENDPOINTS: Mapping[str, tuple[str, Endpoint]] = {
    "tiingo": ("tiingo", "news"),
    "finnhub": ("finnhub", "news_sentiment"),
}

# "Recent" is the last 24 hourly buckets (the current hour included); when those are empty,
# the last 7 daily buckets (today included) stand in, and the source counts as stale.
RECENT_HOURS = 24
FALLBACK_DAYS = 7

# Confidence = n / (n + k): zero without data, one half at n = k, approaching one.
# Article series need a handful of articles before their average means much. A `finnhub`
# sample is Finnhub's own figure over a week of articles, so one sample already says as much
# as k of our articles; its article volume is not kept in the buckets, so the sample count
# is the only volume left to go by.
HALF_CONFIDENCE_AT: Mapping[str, float] = {"tiingo": 5.0, "our_model": 5.0, "finnhub": 1.0}


@dataclass(frozen=True, slots=True)
class WindowAverage:
    """The pooled figures of one source's buckets in [start, end]."""

    source: str
    resolution: Resolution
    start: datetime
    end: datetime
    count: int = 0
    total: float = 0.0
    minimum: float | None = None
    maximum: float | None = None
    latest: datetime | None = None  # start of the newest bucket with data
    weight: float = 0.0  # sum of the articles' relevance (the count without relevance)
    weighted_total: float = 0.0  # sum of relevance * score

    @property
    def score(self) -> float:
        if not self.count:
            return 0.0
        average = self.weighted_total / self.weight if self.weight > 0 else self.total / self.count
        return max(-1.0, min(1.0, average))

    @property
    def relevance(self) -> float | None:
        """The average relevance of the window's articles to the ticker; None without data."""
        return min(1.0, self.weight / self.count) if self.count else None

    @property
    def label(self) -> str:
        return label_for(self.score)

    @property
    def confidence(self) -> float:
        return confidence_for(self.source, self.count)

    def signal(self) -> SourceSignal | None:
        """The ensemble's input, or None: a source without data is missing, not neutral."""
        if self.count == 0:
            return None
        return SourceSignal(self.score, self.confidence, self.count)


def confidence_for(source: str, count: int) -> float:
    if count <= 0:
        return 0.0
    half = HALF_CONFIDENCE_AT.get(source, 5.0)
    return count / (count + half)


def window_average(
    buckets: Iterable[Bucket],
    source: str,
    resolution: Resolution,
    start: datetime,
    end: datetime,
) -> WindowAverage:
    """Pool the buckets of `source` at `resolution` whose start lies in [start, end]."""
    low, high = bucket_start(start, resolution), bucket_start(end, resolution)
    chosen = [
        b
        for b in buckets
        if b.source == source and b.resolution == resolution and low <= b.start <= high
        if b.count > 0
    ]
    if not chosen:
        return WindowAverage(source, resolution, low, end)
    return WindowAverage(
        source=source,
        resolution=resolution,
        start=low,
        end=end,
        count=sum(b.count for b in chosen),
        total=math.fsum(b.total for b in chosen),
        minimum=min(b.minimum for b in chosen),
        maximum=max(b.maximum for b in chosen),
        latest=max(b.start for b in chosen),
        weight=math.fsum(b.relevance_weight for b in chosen),
        weighted_total=math.fsum(b.relevance_sum for b in chosen),
    )


def recent_window(now: datetime) -> tuple[datetime, datetime]:
    """The hourly window: the current hour and the 23 before it."""
    return bucket_start(now, "H") - timedelta(hours=RECENT_HOURS - 1), now


def fallback_window(now: datetime) -> tuple[datetime, datetime]:
    """The daily window: today and the 6 days before it."""
    return bucket_start(now, "D") - timedelta(days=FALLBACK_DAYS - 1), now


def choose(recent: WindowAverage, fallback: WindowAverage | None) -> WindowAverage:
    """The recent window when it has data, else the wider daily one (when it was read)."""
    if recent.count > 0 or fallback is None:
        return recent
    return fallback


def source_status(recent_count: int, fallback_count: int) -> Status:
    """`ok` with data in the recent window, `degraded` with only older (daily) data,
    `unavailable` with none in the fallback window either."""
    if recent_count > 0:
        return "ok"
    if fallback_count > 0:
        return "degraded"
    return "unavailable"


_RANK: Mapping[Status, int] = {"ok": 2, "degraded": 1, "unavailable": 0}


def overall_status(statuses: Iterable[Status]) -> Status:
    """A provider's status over several tickers: the best of them. An outage starves every
    ticker at once, while one quiet ticker without news says nothing about the provider."""
    best: Status = "unavailable"
    for status in statuses:
        if _RANK[status] > _RANK[best]:
            best = status
    return best

"""Per-ticker sentiment time buckets as arithmetic: which hour and day a score falls in, what
a scored article (or a provider's own figure) adds to each bucket, and what a bucket holds once
that is added. No I/O: `services.store.sentiment` persists buckets with these functions and the
in-memory fake keeps them with the same ones, so the two cannot drift apart.

A bucket holds count, sum, min and max of the scores that fell in it, so every average shown
anywhere is sum/count: a true average. It also holds the relevance-weighted sums (`weight` =
sum of the articles' relevance to the ticker, `weighted_total` = sum of relevance * score;
`services.scoring.relevance`), so the averages the API shows are relevance-weighted: a story
that merely lists a ticker moves its figure a tenth as much as one about it. Buckets written
before relevance existed lack those two sums and read as if every article had relevance 1; the
first addition to such a bucket derives them from its count and sum.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal, Protocol

Resolution = Literal["H", "D"]
RESOLUTIONS: tuple[Resolution, ...] = ("H", "D")
# (ticker, source, resolution, the start's label): one bucket, as its key is built.
BucketId = tuple[str, str, Resolution, str]

_HOUR_LABEL = "%Y-%m-%dT%H:00Z"
_DAY_LABEL = "%Y-%m-%d"


class Story(Protocol):
    """What bucketing needs of a stored article (`services.store.models.Article` has it)."""

    @property
    def dedup_key(self) -> str: ...
    @property
    def published_at(self) -> datetime: ...
    @property
    def tickers(self) -> Sequence[str]: ...
    @property
    def sources(self) -> Collection[str]: ...


def relevance_of(relevance: Mapping[str, float] | None, ticker: str) -> float:
    """An article's relevance to `ticker`, within [0, 1]; 1.0 where none was recorded
    (articles analyzed before relevance existed count fully, as they did)."""
    if not relevance:
        return 1.0
    return max(0.0, min(1.0, float(relevance.get(ticker, 1.0))))


@dataclass(frozen=True, slots=True)
class ScoredArticle:
    article: Story
    score: float
    label: str
    confidence: float
    model_version: str
    # Per listed ticker, how much the article is about it; a ticker missing counts fully.
    relevance: Mapping[str, float] = field(default_factory=dict)

    def weight(self, ticker: str) -> float:
        return relevance_of(self.relevance, ticker)


@dataclass(frozen=True, slots=True)
class Sample:
    """A score a provider computed for a ticker (not from one of our articles)."""

    ticker: str
    source: str
    score: float


@dataclass(frozen=True, slots=True)
class Bucket:
    ticker: str
    source: str
    resolution: Resolution
    start: datetime
    count: int
    total: float
    minimum: float
    maximum: float
    # Relevance-weighted sums; None in a bucket written before relevance was recorded.
    weight: float | None = None
    weighted_total: float | None = None

    @property
    def average(self) -> float:
        return self.total / self.count if self.count else 0.0

    @property
    def relevance_weight(self) -> float:
        """Sum of the articles' relevance (the count, for a bucket from before relevance)."""
        return float(self.count) if self.weight is None else self.weight

    @property
    def relevance_sum(self) -> float:
        """Sum of relevance * score (the plain sum, for a bucket from before relevance)."""
        return self.total if self.weighted_total is None else self.weighted_total

    @property
    def weighted_average(self) -> float:
        """The relevance-weighted average score (the plain one when no weight is recorded)."""
        weight = self.relevance_weight
        return self.relevance_sum / weight if weight > 0 else self.average


def bucket_start(moment: datetime, resolution: Resolution) -> datetime:
    """The start (UTC) of the hour or day `moment` falls in."""
    moment = moment.astimezone(UTC)
    if resolution == "H":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def bucket_label(start: datetime, resolution: Resolution) -> str:
    return start.strftime(_HOUR_LABEL if resolution == "H" else _DAY_LABEL)


def parse_bucket_label(label: str, resolution: Resolution) -> datetime:
    pattern = _HOUR_LABEL if resolution == "H" else _DAY_LABEL
    return datetime.strptime(label, pattern).replace(tzinfo=UTC)


def bucket_id_of(bucket: Bucket) -> BucketId:
    return (
        bucket.ticker,
        bucket.source,
        bucket.resolution,
        bucket_label(bucket.start, bucket.resolution),
    )


def sources_of(article: Story) -> list[str]:
    """Which sentiment series an article feeds: our model always, `tiingo` for Tiingo's news.

    (The `finnhub` series is Finnhub's own bullish/bearish figure, recorded by ingestion.)
    """
    return ["our_model", "tiingo"] if "tiingo" in article.sources else ["our_model"]


def article_bucket_ids(article: Story) -> list[BucketId]:
    """The buckets an article's score will be added to (known before it is scored): per
    ticker, source and resolution."""
    starts = {r: bucket_label(bucket_start(article.published_at, r), r) for r in RESOLUTIONS}
    return [
        (ticker, source, resolution, starts[resolution])
        for ticker in article.tickers
        for source in sources_of(article)
        for resolution in RESOLUTIONS
    ]


def bucket_ids(item: ScoredArticle) -> list[BucketId]:
    """The buckets one scored article adds to."""
    return article_bucket_ids(item.article)


@dataclass
class Contribution:
    """What a batch of scores adds to one bucket; empty, its min and max sit at the far ends of
    the score range [-1, 1], so the first score replaces both."""

    count: int = 0
    total: float = 0.0
    minimum: float = 1.0
    maximum: float = -1.0
    weight: float = 0.0
    weighted_total: float = 0.0

    def add(self, score: float, weight: float = 1.0) -> None:
        self.count += 1
        self.total += score
        self.minimum = min(self.minimum, score)
        self.maximum = max(self.maximum, score)
        self.weight += weight
        self.weighted_total += weight * score


def contributions(scored: Iterable[ScoredArticle]) -> dict[BucketId, Contribution]:
    """What scored articles add to each bucket, each weighted by its relevance to the bucket's
    ticker."""
    found: dict[BucketId, Contribution] = {}
    for item in scored:
        for bucket_id in bucket_ids(item):
            found.setdefault(bucket_id, Contribution()).add(item.score, item.weight(bucket_id[0]))
    return found


def sample_contributions(samples: Iterable[Sample], at: datetime) -> dict[BucketId, Contribution]:
    """What provider figures taken at `at` add to their sources' hour and day buckets (each
    counts fully: it is about its ticker)."""
    found: dict[BucketId, Contribution] = {}
    for sample in samples:
        for resolution in RESOLUTIONS:
            label = bucket_label(bucket_start(at, resolution), resolution)
            bucket_id = (sample.ticker, sample.source, resolution, label)
            found.setdefault(bucket_id, Contribution()).add(sample.score)
    return found


def add_to_bucket(
    bucket_id: BucketId, existing: Bucket | None, contribution: Contribution
) -> Bucket:
    """The bucket once `contribution` is added to `existing` (None: nothing stored yet).

    The weighted sums always come out set: a bucket from before relevance counts its earlier
    articles with relevance 1 (its count and plain sum).
    """
    if existing is None:
        ticker, source, resolution, label = bucket_id
        return Bucket(
            ticker=ticker,
            source=source,
            resolution=resolution,
            start=parse_bucket_label(label, resolution),
            count=contribution.count,
            total=contribution.total,
            minimum=contribution.minimum,
            maximum=contribution.maximum,
            weight=contribution.weight,
            weighted_total=contribution.weighted_total,
        )
    return replace(
        existing,
        count=existing.count + contribution.count,
        total=existing.total + contribution.total,
        minimum=min(contribution.minimum, existing.minimum),
        maximum=max(contribution.maximum, existing.maximum),
        weight=existing.relevance_weight + contribution.weight,
        weighted_total=existing.relevance_sum + contribution.weighted_total,
    )

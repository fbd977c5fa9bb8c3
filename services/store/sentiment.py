"""Analysis results and per-ticker sentiment time buckets, written together, exactly once.

A bucket (`SENTIMENT#{ticker}#{source} | {H|D}#{start}`) holds count, sum, min and max of
the scores that fell in it, so every average shown anywhere is sum/count: a true average.
It also holds the relevance-weighted sums (`weight_sum` = sum of the articles' relevance to
the ticker, `weighted_sum` = sum of relevance * score; `services.scoring.relevance`), so the
averages the API shows are relevance-weighted: a story that merely lists a ticker moves its
figure a tenth as much as one about it. Buckets written before relevance existed lack those
two attributes and read as if every article had relevance 1; the first write to such a bucket
sets them from its count and sum.

Exactly once: an article's status change (pending -> analyzed, conditional) and its bucket
contributions are one transaction. A redelivered message finds the article analyzed and adds
nothing. Buckets are read first and written with a condition on the count read, so min and
max stay right when two workers update the same bucket; the loser re-reads and retries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from services.clock import iso
from services.store import keys
from services.store.items import (
    MAX_TRANSACTION_ITEMS,
    cancellation_codes,
    conflict_backoff,
    to_decimal,
    transact_write,
)
from services.store.models import Article
from services.store.pages import every_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

Resolution = Literal["H", "D"]
RESOLUTIONS: tuple[Resolution, ...] = ("H", "D")
_MAX_CONFLICT_RETRIES = 8


def relevance_of(relevance: Mapping[str, float] | None, ticker: str) -> float:
    """An article's stored relevance to `ticker`; 1.0 where none was recorded (articles
    analyzed before relevance existed count fully, as they did)."""
    if not relevance:
        return 1.0
    return max(0.0, min(1.0, float(relevance.get(ticker, 1.0))))


@dataclass(frozen=True, slots=True)
class ScoredArticle:
    article: Article
    score: float
    label: str
    confidence: float
    model_version: str
    # Per listed ticker, how much the article is about it; a ticker missing counts fully.
    relevance: Mapping[str, float] = field(default_factory=dict)

    def weight(self, ticker: str) -> float:
        return relevance_of(self.relevance, ticker)


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
    moment = moment.astimezone(UTC)
    if resolution == "H":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def bucket_label(start: datetime, resolution: Resolution) -> str:
    return start.strftime("%Y-%m-%dT%H:00Z" if resolution == "H" else "%Y-%m-%d")


def sources_of(article: Article) -> list[str]:
    """Which sentiment series an article feeds: our model always, `tiingo` for Tiingo's news.

    (The `finnhub` series is Finnhub's own bullish/bearish figure, recorded by ingestion.)
    """
    return ["our_model", "tiingo"] if "tiingo" in article.sources else ["our_model"]


@dataclass
class Contribution:
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

    def onto(self, existing: Bucket | None) -> tuple[float, float]:
        """The bucket's weight and weighted sum once this is added to `existing`."""
        if existing is None:
            return self.weight, self.weighted_total
        return (
            existing.relevance_weight + self.weight,
            existing.relevance_sum + self.weighted_total,
        )


BucketId = tuple[str, str, Resolution, str]


def bucket_ids(item: ScoredArticle) -> list[BucketId]:
    """The buckets one scored article adds to: per ticker, source and resolution."""
    return article_bucket_ids(item.article)


def article_bucket_ids(article: Article) -> list[BucketId]:
    """The buckets an article's score will be added to (known before it is scored)."""
    starts = {r: bucket_label(bucket_start(article.published_at, r), r) for r in RESOLUTIONS}
    return [
        (ticker, source, resolution, starts[resolution])
        for ticker in article.tickers
        for source in sources_of(article)
        for resolution in RESOLUTIONS
    ]


@dataclass(frozen=True, slots=True)
class Sample:
    """A score a provider computed for a ticker (not from one of our articles)."""

    ticker: str
    source: str
    score: float


def sample_contributions(samples: Iterable[Sample], at: datetime) -> dict[BucketId, Contribution]:
    found: dict[BucketId, Contribution] = {}
    for sample in samples:
        for resolution in RESOLUTIONS:
            label = bucket_label(bucket_start(at, resolution), resolution)
            bucket_id = (sample.ticker, sample.source, resolution, label)
            found.setdefault(bucket_id, Contribution()).add(sample.score)
    return found


def contributions(scored: Iterable[ScoredArticle]) -> dict[BucketId, Contribution]:
    found: dict[BucketId, Contribution] = {}
    for item in scored:
        for bucket_id in bucket_ids(item):
            found.setdefault(bucket_id, Contribution()).add(item.score, item.weight(bucket_id[0]))
    return found


class SentimentStore(Protocol):
    def record(self, scored: Sequence[ScoredArticle], now: datetime) -> list[str]: ...
    def record_samples(self, samples: Sequence[Sample], at: datetime) -> None: ...
    def history(
        self, ticker: str, source: str, resolution: Resolution, since: datetime, until: datetime
    ) -> list[Bucket]: ...


class DynamoSentimentStore:
    def __init__(self, table: Table, *, retention: timedelta = timedelta(days=400)) -> None:
        self._table = table
        self._retention = retention

    def record(self, scored: Sequence[ScoredArticle], now: datetime) -> list[str]:
        """Mark articles analyzed and add them to their buckets; returns the keys newly analyzed."""
        analyzed: list[str] = []
        for chunk in _chunks(scored):
            analyzed += self._record_chunk(list(chunk), now)
        return analyzed

    def record_samples(self, samples: Sequence[Sample], at: datetime) -> None:
        """Provider-computed figures (Finnhub's sentiment) into their sources' buckets, in one
        transaction per 100 buckets (read first, written with the count condition)."""
        found = sample_contributions(samples, at)
        ids = list(found)
        for start in range(0, len(ids), MAX_TRANSACTION_ITEMS):
            chunk = ids[start : start + MAX_TRANSACTION_ITEMS]
            for attempt in range(_MAX_CONFLICT_RETRIES):
                current = self._read_buckets(chunk)
                operations = [self._bucket_update(b, found[b], current, now=at) for b in chunk]
                try:
                    transact_write(self._table, operations)
                    break
                except ClientError as error:
                    if not _is_retryable(error):
                        raise
                    conflict_backoff(attempt)
            else:
                raise RuntimeError("could not record provider samples: too many write conflicts")

    def _record_chunk(self, chunk: list[ScoredArticle], now: datetime) -> list[str]:
        for _ in range(_MAX_CONFLICT_RETRIES):
            if not chunk:
                return []
            found = contributions(chunk)
            current = self._read_buckets(list(found))
            operations = [self._article_update(item, now) for item in chunk]
            operations += [
                self._bucket_update(bucket_id, c, current, now=now)
                for bucket_id, c in found.items()
            ]
            try:
                transact_write(self._table, operations)
                return [item.article.dedup_key for item in chunk]
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                codes = cancellation_codes(error)
                # Articles whose condition failed were analyzed already (redelivery): drop them.
                already = {
                    chunk[i].article.dedup_key
                    for i, code in enumerate(codes[: len(chunk)])
                    if code == "ConditionalCheckFailed"
                }
                chunk = [item for item in chunk if item.article.dedup_key not in already]
                if not already:
                    conflict_backoff()  # a bucket changed under us, or a concurrent transaction
        raise RuntimeError("could not record analysis results: too many write conflicts")

    def _article_update(self, item: ScoredArticle, now: datetime) -> dict[str, Any]:
        expression = (
            "SET #status = :analyzed, sentiment = :label, sentiment_score = :score, "
            "confidence = :confidence, model_version = :version, analyzed_at = :now, "
            "#timestamp = :now"
        )
        values: dict[str, Any] = {
            ":analyzed": "analyzed",
            ":pending": "pending",
            ":label": item.label,
            ":score": to_decimal(round(item.score, 6)),
            ":confidence": to_decimal(round(item.confidence, 6)),
            ":version": item.model_version,
            ":now": iso(now),
        }
        if item.relevance:
            # Stored with the score, in the same update: no extra write per article.
            expression += ", relevance = :relevance"
            values[":relevance"] = {t: to_decimal(round(r, 3)) for t, r in item.relevance.items()}
        return {
            "Update": {
                "Key": keys.article(item.article.dedup_key),
                "UpdateExpression": expression,
                "ConditionExpression": "#status = :pending",
                "ExpressionAttributeNames": {"#status": "status", "#timestamp": "timestamp"},
                "ExpressionAttributeValues": values,
            }
        }

    def _bucket_update(
        self,
        bucket_id: BucketId,
        contribution: Contribution,
        current: dict[BucketId, Bucket],
        *,
        now: datetime,
    ) -> dict[str, Any]:
        ticker, source, resolution, label = bucket_id
        existing = current.get(bucket_id)
        minimum = min(contribution.minimum, existing.minimum) if existing else contribution.minimum
        maximum = max(contribution.maximum, existing.maximum) if existing else contribution.maximum
        weight, weighted = contribution.onto(existing)
        values: dict[str, Any] = {
            ":c": contribution.count,
            ":s": to_decimal(round(contribution.total, 6)),
            ":min": to_decimal(round(minimum, 6)),
            ":max": to_decimal(round(maximum, 6)),
            # Set from the bucket read under the count condition, so a bucket from before
            # relevance gains its weights from its count and sum.
            ":w": to_decimal(round(weight, 6)),
            ":ws": to_decimal(round(weighted, 6)),
            ":t": ticker,
            ":src": source,
            ":r": resolution,
            ":b": label,
            ":e": "sentiment_bucket",
            ":exp": int((now + self._retention).timestamp()),
        }
        if existing:
            condition = "#count = :seen"
            values[":seen"] = existing.count
        else:
            condition = "attribute_not_exists(PK)"
        return {
            "Update": {
                "Key": keys.sentiment_bucket(ticker, source, resolution, label),
                "UpdateExpression": (
                    "ADD #count :c, score_sum :s SET min_score = :min, max_score = :max, "
                    "weight_sum = :w, weighted_sum = :ws, ticker = :t, #source = :src, "
                    "#resolution = :r, bucket_start = :b, entity = :e, expires_at = :exp"
                ),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {
                    "#count": "count",
                    "#source": "source",
                    "#resolution": "resolution",
                },
                "ExpressionAttributeValues": values,
            }
        }

    def _read_buckets(self, bucket_ids: list[BucketId]) -> dict[BucketId, Bucket]:
        found: dict[BucketId, Bucket] = {}
        for start in range(0, len(bucket_ids), 100):
            wanted = [keys.sentiment_bucket(*b) for b in bucket_ids[start : start + 100]]
            request: dict[str, Any] = {self._table.name: {"Keys": wanted, "ConsistentRead": True}}
            while request:
                response = self._table.meta.client.batch_get_item(RequestItems=request)
                for item in response["Responses"].get(self._table.name, []):
                    bucket = _bucket_from_item(item)
                    found[_bucket_id(bucket)] = bucket
                request = response.get("UnprocessedKeys") or {}
        return found

    def history(
        self, ticker: str, source: str, resolution: Resolution, since: datetime, until: datetime
    ) -> list[Bucket]:
        """The buckets of one series in [since, until], oldest first."""
        low = bucket_label(bucket_start(since, resolution), resolution)
        high = bucket_label(bucket_start(until, resolution), resolution)
        pk = keys.sentiment_bucket(ticker, source, resolution, "")["PK"]
        condition = Key("PK").eq(pk) & Key("SK").between(
            f"{resolution}#{low}", f"{resolution}#{high}"
        )
        request = {"KeyConditionExpression": condition}
        return [_bucket_from_item(i) for i in every_item(self._table.query, request)]


def parse_bucket_label(label: str, resolution: Resolution) -> datetime:
    pattern = "%Y-%m-%dT%H:00Z" if resolution == "H" else "%Y-%m-%d"
    return datetime.strptime(label, pattern).replace(tzinfo=UTC)


def _bucket_from_item(item: dict[str, Any]) -> Bucket:
    resolution: Resolution = "H" if item["resolution"] == "H" else "D"
    start = parse_bucket_label(str(item["bucket_start"]), resolution)
    return Bucket(
        ticker=str(item["ticker"]),
        source=str(item["source"]),
        resolution=resolution,
        start=start,
        count=int(str(item["count"])),
        total=float(str(item["score_sum"])),
        minimum=float(str(item["min_score"])),
        maximum=float(str(item["max_score"])),
        weight=float(str(item["weight_sum"])) if "weight_sum" in item else None,
        weighted_total=float(str(item["weighted_sum"])) if "weighted_sum" in item else None,
    )


def _bucket_id(bucket: Bucket) -> BucketId:
    return (
        bucket.ticker,
        bucket.source,
        bucket.resolution,
        bucket_label(bucket.start, bucket.resolution),
    )


def _chunks(scored: Sequence[ScoredArticle]) -> Iterable[list[ScoredArticle]]:
    """Groups of articles whose transaction (articles + distinct buckets) fits 100 items.

    Articles that feed the same buckets go together (ordered by their bucket set), so a
    batch spanning several tickers or hours needs as few bucket writes as it can.
    """
    chunk: list[ScoredArticle] = []
    buckets: set[BucketId] = set()
    keyed = sorted(
        ((tuple(sorted(bucket_ids(item))), item) for item in scored), key=lambda pair: pair[0]
    )
    for ids, item in keyed:
        mine = set(ids)
        if chunk and len(chunk) + 1 + len(buckets | mine) > MAX_TRANSACTION_ITEMS:
            yield chunk
            chunk, buckets = [], set()
        chunk.append(item)
        buckets |= mine
    if chunk:
        yield chunk


def _is_retryable(error: ClientError) -> bool:
    return error.response["Error"]["Code"] in (
        "TransactionCanceledException",
        "TransactionConflictException",
    )

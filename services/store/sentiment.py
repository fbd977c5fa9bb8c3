"""Analysis results and per-ticker sentiment time buckets, written together, exactly once.

A bucket is one item, `SENTIMENT#{ticker}#{source} | {H|D}#{start}`, holding count, score_sum,
min_score, max_score and the relevance-weighted weight_sum and weighted_sum. Which buckets a
score feeds and what it adds to them is `services.analysis.buckets`; this module only reads
and writes the items.

Exactly once: an article's status change (pending -> analyzed, conditional) and its bucket
contributions are one transaction. A redelivered message finds the article analyzed and adds
nothing. Buckets are read first and written with a condition on the count read, so min and
max stay right when two workers update the same bucket; the loser re-reads and retries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from services.analysis.buckets import (
    Bucket,
    BucketId,
    Contribution,
    Resolution,
    Sample,
    ScoredArticle,
    add_to_bucket,
    bucket_id_of,
    bucket_ids,
    bucket_label,
    bucket_start,
    contributions,
    parse_bucket_label,
    sample_contributions,
)
from services.clock import iso
from services.store import keys
from services.store.items import (
    MAX_TRANSACTION_ITEMS,
    cancellation_codes,
    conflict_backoff,
    to_decimal,
    transact_write,
)
from services.store.pages import every_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_MAX_CONFLICT_RETRIES = 8


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
        merged = add_to_bucket(bucket_id, existing, contribution)
        values: dict[str, Any] = {
            # Count and sum are added by DynamoDB; the rest is SET from the bucket read, which
            # the count condition below proves is still the stored one.
            ":c": contribution.count,
            ":s": to_decimal(round(contribution.total, 6)),
            ":min": to_decimal(round(merged.minimum, 6)),
            ":max": to_decimal(round(merged.maximum, 6)),
            ":w": to_decimal(round(merged.relevance_weight, 6)),
            ":ws": to_decimal(round(merged.relevance_sum, 6)),
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
                    found[bucket_id_of(bucket)] = bucket
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

"""News articles: idempotent insert, per-ticker tag entries, analysis results.

Index use: `by_status` finds pending work (and stale pending items to republish) and the
latest analyzed stories, `by_tag` lists a ticker's stories in time order, `by_sentiment`
lists stories by label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from services.clock import Clock, epoch_seconds, iso, parse_iso, utc_now
from services.store import keys
from services.store.errors import NotFoundError
from services.store.items import (
    MAX_TRANSACTION_ITEMS,
    Item,
    cancellation_codes,
    conflict_backoff,
    is_condition_failure,
    is_live,
    opt_float,
    opt_iso,
    opt_time,
    to_decimal,
    transact_write,
    without_nones,
)
from services.store.models import Article
from services.store.pages import every_item, pages
from services.store.schema import BY_SENTIMENT, BY_STATUS, BY_TAG, TTL_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

_MAX_INSERT_ATTEMPTS = 8
_CONDITION = "ConditionalCheckFailed"
# Per stored story: the providers it is attributed to, and its tickers.
Attribution = dict[str, tuple[set[str], set[str]]]
TagKey = tuple[str, str]  # (dedup key, ticker) of a tag entry


class ArticleRepository(Protocol):
    def insert(self, article: Article) -> bool: ...
    def insert_many(self, articles: Sequence[Article]) -> list[str]: ...
    def get(self, dedup_key: str) -> Article: ...
    def get_many(self, dedup_keys: Sequence[str]) -> list[Article]: ...
    def mark_analyzed(
        self,
        dedup_key: str,
        *,
        score: float,
        label: str,
        confidence: float,
        model_version: str,
        now: datetime,
        relevance: Mapping[str, float] | None = None,
    ) -> bool: ...
    def list_by_status(
        self, status: str, *, before: datetime | None = None, limit: int = 100
    ) -> list[Article]: ...
    def list_by_tag(self, ticker: str, *, since: datetime, until: datetime) -> list[str]: ...
    def count_by_status(self, status: str) -> int: ...
    def count_by_sentiment(self, label: str, *, since: datetime) -> int: ...
    def latest_by_status(self, status: str, *, limit: int) -> list[Article]: ...
    def list_by_sentiment(
        self, label: str, *, since: datetime, limit: int = 100
    ) -> list[Article]: ...


def article_to_item(article: Article) -> Item:
    return without_nones(
        {
            **keys.article(article.dedup_key),
            "entity": "article",
            "dedup_key": article.dedup_key,
            "title": article.title,
            "description": article.description,
            "url": article.url,
            "published_at": iso(article.published_at),
            "tickers": list(article.tickers),
            "sources": dict(article.sources),
            "ingested_at": iso(article.ingested_at),
            "status": article.status,
            # by_status / by_sentiment order: when the item entered its current status.
            "timestamp": iso(article.analyzed_at or article.ingested_at),
            "sentiment": article.sentiment_label,
            "sentiment_score": to_decimal(article.sentiment_score)
            if article.sentiment_score is not None
            else None,
            "confidence": to_decimal(article.confidence)
            if article.confidence is not None
            else None,
            "model_version": article.model_version,
            "analyzed_at": opt_iso(article.analyzed_at),
            "relevance": {t: to_decimal(r) for t, r in article.relevance.items()}
            if article.relevance
            else None,
            "expires_at": epoch_seconds(article.expires_at) if article.expires_at else None,
        }
    )


def article_from_item(item: dict[str, Any]) -> Article:
    return Article(
        dedup_key=str(item["dedup_key"]),
        title=str(item["title"]),
        description=str(item.get("description", "")),
        url=str(item.get("url", "")),
        published_at=parse_iso(str(item["published_at"])),
        tickers=tuple(str(t) for t in item.get("tickers", [])),
        sources={str(k): str(v) for k, v in item.get("sources", {}).items()},
        ingested_at=parse_iso(str(item["ingested_at"])),
        status=item["status"],
        sentiment_label=item.get("sentiment"),
        sentiment_score=opt_float(item.get("sentiment_score")),
        confidence=opt_float(item.get("confidence")),
        model_version=item.get("model_version"),
        analyzed_at=opt_time(item.get("analyzed_at")),
        expires_at=None,
        relevance={str(t): float(r) for t, r in item["relevance"].items()}
        if item.get("relevance")
        else None,
    )


class DynamoArticleRepository:
    def __init__(self, table: Table, clock: Clock = utc_now) -> None:
        self._table = table
        self._clock = clock

    def _live(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        now = self._clock()
        return [i for i in items if is_live(i, now)]

    def insert(self, article: Article) -> bool:
        """Store a new story; True only when it is new (see `insert_many`)."""
        return bool(self.insert_many([article]))

    def insert_many(self, articles: Sequence[Article]) -> list[str]:
        """Store the stories not stored yet; returns their keys, so a rerun publishes nothing.

        A story already stored only gains what is new about it: another provider's
        attribution or another ticker. New stories go in transactions of up to 100 articles,
        each with a not-exists condition; a story that a concurrent run stored first fails
        its condition and is treated as already stored.

        Tag entries are written after their articles commit, in batch writes (idempotent
        puts of items derived from the story, half the cost of a transactional put on
        DynamoDB Local), so `by_tag` never names a story that is not stored. If the process
        stops in between, the next cycle's read finds the story stored and its tag entries
        missing, and writes them.
        """
        by_key = {a.dedup_key: a for a in articles}
        stored, tagged = self._read_stored(list(by_key.values()))
        tags: list[Item] = []
        for key, attribution in stored.items():
            tags += self._merge_into_stored(by_key[key], attribution, tagged)
        self._put_tags(tags)
        fresh = [a for key, a in by_key.items() if key not in stored]
        inserted: list[str] = []
        for chunk in _insert_chunks(fresh):
            new, raced = self._insert_chunk(chunk)
            inserted += [a.dedup_key for a in new]
            tags = [tag for article in new for tag in _tag_items(article)]
            if raced:
                # Stored by a concurrent run since our read: merge into what it stored.
                now_stored, now_tagged = self._read_stored(raced)
                for article in raced:
                    if article.dedup_key in now_stored:
                        found = now_stored[article.dedup_key]
                        tags += self._merge_into_stored(article, found, now_tagged)
            self._put_tags(tags)
        return inserted

    def _read_stored(self, articles: Sequence[Article]) -> tuple[Attribution, set[TagKey]]:
        """What is stored of these stories: each article's providers and tickers, then which
        tag entries the stored ones have (consistent batch reads; a new story costs one key)."""
        stored: Attribution = {}
        for item in self._batch_get([keys.article(a.dedup_key) for a in articles]):
            stored[str(item["dedup_key"])] = (
                set(item.get("sources", {})),
                {str(t) for t in item.get("tickers", [])},
            )
        known = [a for a in articles if a.dedup_key in stored]
        wanted = [keys.article_tag(a.dedup_key, t) for a in known for t in a.tickers]
        tagged = {(str(i["dedup_key"]), str(i["tag"])) for i in self._batch_get(wanted)}
        return stored, tagged

    def _batch_get(self, wanted: list[dict[str, str]]) -> list[dict[str, Any]]:
        """The stored items among `wanted`: the story's key, attribution and tag only."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), 100):
            request: dict[str, Any] = {
                self._table.name: {
                    "Keys": wanted[start : start + 100],
                    "ProjectionExpression": "#k, #s, #t, #g",
                    "ExpressionAttributeNames": {
                        "#k": "dedup_key",
                        "#s": "sources",
                        "#t": "tickers",
                        "#g": "tag",
                    },
                    "ConsistentRead": True,
                }
            }
            while request:
                response = self._table.meta.client.batch_get_item(RequestItems=request)
                found += response["Responses"].get(self._table.name, [])
                request = response.get("UnprocessedKeys") or {}
        return found

    def _insert_chunk(self, chunk: list[Article]) -> tuple[list[Article], list[Article]]:
        """Insert the chunk's articles: returns those inserted, and those that a concurrent
        run stored first."""
        raced: list[Article] = []
        for attempt in range(_MAX_INSERT_ATTEMPTS):
            if not chunk:
                break
            operations: list[dict[str, Any]] = [
                {
                    "Put": {
                        "Item": article_to_item(article),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                }
                for article in chunk
            ]
            try:
                transact_write(self._table, operations)
                return chunk, raced
            except ClientError as error:
                if error.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                codes = cancellation_codes(error)
                failed = [a for a, code in zip(chunk, codes, strict=False) if code == _CONDITION]
                raced += failed
                chunk = [a for a in chunk if a not in failed]
                if not failed:
                    # A concurrent transaction held one of the items: try again shortly.
                    conflict_backoff(attempt)
        else:
            raise RuntimeError("could not insert articles: too many transaction conflicts")
        return [], raced

    def _merge_into_stored(
        self,
        article: Article,
        attribution: tuple[set[str], set[str]],
        tagged: set[TagKey],
    ) -> list[Item]:
        """Add this story's new providers and tickers to the stored item; returns the tag
        entries it lacks (new tickers, or entries a stopped run did not get to write)."""
        sources, tickers = attribution
        for provider, provider_id in article.sources.items():
            if provider in sources:
                continue
            self._table.update_item(
                Key=keys.article(article.dedup_key),
                UpdateExpression="SET sources.#p = :id",
                ExpressionAttributeNames={"#p": provider},
                ExpressionAttributeValues={":id": provider_id},
            )
        added = set(article.tickers) - tickers
        if added:
            self._table.update_item(
                Key=keys.article(article.dedup_key),
                UpdateExpression="SET tickers = :tickers",
                ExpressionAttributeValues={":tickers": sorted(tickers | added)},
            )
        return [t for t in _tag_items(article) if (article.dedup_key, t["tag"]) not in tagged]

    def _put_tags(self, tags: list[Item]) -> None:
        # The batch writer sends 25 items per request and resends any left unprocessed.
        if not tags:
            return
        with self._table.batch_writer() as batch:
            for tag in tags:
                batch.put_item(Item=tag)

    def get(self, dedup_key: str) -> Article:
        item = self._table.get_item(Key=keys.article(dedup_key)).get("Item")
        if item is None or not self._live([item]):
            raise NotFoundError(f"article {dedup_key} not found")
        return article_from_item(item)

    def get_many(self, dedup_keys: Sequence[str]) -> list[Article]:
        """The live articles among `dedup_keys` (missing ones are skipped), in one round trip
        per 100 keys."""
        found: list[dict[str, Any]] = []
        unique = list(dict.fromkeys(dedup_keys))
        for start in range(0, len(unique), 100):
            wanted = [keys.article(k) for k in unique[start : start + 100]]
            request: dict[str, Any] = {self._table.name: {"Keys": wanted, "ConsistentRead": True}}
            while request:
                response = self._table.meta.client.batch_get_item(RequestItems=request)
                found += response["Responses"].get(self._table.name, [])
                request = response.get("UnprocessedKeys") or {}
        return [article_from_item(i) for i in self._live(found)]

    def mark_analyzed(
        self,
        dedup_key: str,
        *,
        score: float,
        label: str,
        confidence: float,
        model_version: str,
        now: datetime,
        relevance: Mapping[str, float] | None = None,
    ) -> bool:
        """Record the score once. False when it was already analyzed (a redelivered message)."""
        expression = (
            "SET #status = :analyzed, sentiment = :label, sentiment_score = :score, "
            "confidence = :confidence, model_version = :version, analyzed_at = :now, "
            "#timestamp = :now"
        )
        values: dict[str, Any] = {
            ":analyzed": "analyzed",
            ":pending": "pending",
            ":label": label,
            ":score": to_decimal(score),
            ":confidence": to_decimal(confidence),
            ":version": model_version,
            ":now": iso(now),
        }
        if relevance:
            expression += ", relevance = :relevance"
            values[":relevance"] = {t: to_decimal(r) for t, r in relevance.items()}
        try:
            self._table.update_item(
                Key=keys.article(dedup_key),
                UpdateExpression=expression,
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status", "#timestamp": "timestamp"},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def list_by_status(
        self, status: str, *, before: datetime | None = None, limit: int = 100
    ) -> list[Article]:
        """Oldest first by time entered in the status (`before` bounds it): stalest work first."""
        condition: Any = Key(BY_STATUS.partition_key).eq(status)
        if before is not None:
            condition = condition & Key(BY_STATUS.sort_key).lt(iso(before))
        response = self._table.query(
            IndexName=BY_STATUS.name, KeyConditionExpression=condition, Limit=limit
        )
        return [article_from_item(i) for i in self._live(response["Items"])]

    def latest_by_status(self, status: str, *, limit: int) -> list[Article]:
        """Newest first: the last `limit` articles to enter `status`. Bounded: the query stops
        once `limit` items are read, however many the status holds."""
        kwargs: dict[str, Any] = {
            "IndexName": BY_STATUS.name,
            "KeyConditionExpression": Key(BY_STATUS.partition_key).eq(status),
            "ScanIndexForward": False,
        }
        items = [i for page in pages(self._table.query, kwargs, limit=limit) for i in page["Items"]]
        return [article_from_item(i) for i in self._live(items)]

    def list_by_tag(self, ticker: str, *, since: datetime, until: datetime) -> list[str]:
        """Dedup keys of the ticker's stories published in [since, until), oldest first."""
        condition = Key(BY_TAG.partition_key).eq(ticker) & Key(BY_TAG.sort_key).between(
            iso(since), iso(until)
        )
        request = {"IndexName": BY_TAG.name, "KeyConditionExpression": condition}
        items = list(every_item(self._table.query, request))
        return [str(i["dedup_key"]) for i in self._live(items)]

    def list_by_sentiment(self, label: str, *, since: datetime, limit: int = 100) -> list[Article]:
        """Newest first: the latest stories with this label."""
        response = self._table.query(
            IndexName=BY_SENTIMENT.name,
            KeyConditionExpression=Key(BY_SENTIMENT.partition_key).eq(label)
            & Key(BY_SENTIMENT.sort_key).gte(iso(since)),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [article_from_item(i) for i in self._live(response["Items"])]

    def count_by_sentiment(self, label: str, *, since: datetime) -> int:
        """How many live articles analyzed since `since` carry `label` (COUNT on by_sentiment)."""
        return self._count(
            BY_SENTIMENT.name,
            Key(BY_SENTIMENT.partition_key).eq(label) & Key(BY_SENTIMENT.sort_key).gte(iso(since)),
        )

    def count_by_status(self, status: str) -> int:
        """How many articles are in `status` (a COUNT query on by_status, all pages)."""
        return self._count(BY_STATUS.name, Key(BY_STATUS.partition_key).eq(status))

    def _count(self, index: str, condition: Any) -> int:
        """A COUNT query over every page of `index`. Expired items still in the table (TTL
        deletes lazily) do not count."""
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": condition,
            "FilterExpression": Attr(TTL_ATTRIBUTE).not_exists()
            | Attr(TTL_ATTRIBUTE).gt(epoch_seconds(self._clock())),
            "Select": "COUNT",
        }
        return sum(int(page["Count"]) for page in pages(self._table.query, kwargs))


def _tag_items(article: Article) -> list[Item]:
    expiry = epoch_seconds(article.expires_at) if article.expires_at else None
    return [
        without_nones(
            {
                **keys.article_tag(article.dedup_key, ticker),
                "entity": "article_tag",
                "dedup_key": article.dedup_key,
                "tag": ticker,
                "timestamp": iso(article.published_at),
                "expires_at": expiry,
            }
        )
        for ticker in article.tickers
    ]


def _insert_chunks(articles: Sequence[Article]) -> list[list[Article]]:
    """Groups of articles that fit one transaction."""
    return [
        list(articles[start : start + MAX_TRANSACTION_ITEMS])
        for start in range(0, len(articles), MAX_TRANSACTION_ITEMS)
    ]

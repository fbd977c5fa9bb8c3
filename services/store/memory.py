"""In-memory fakes of the repository interfaces, for fast unit tests of domain logic.

They keep the same contracts as the DynamoDB repositories (conditional writes, limits,
soft delete, single use, expiry), which `tests/unit/store` checks against both.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from services.analysis.buckets import (
    Bucket,
    BucketId,
    Contribution,
    Resolution,
    Sample,
    ScoredArticle,
    add_to_bucket,
    bucket_start,
    contributions,
    sample_contributions,
)
from services.clock import Clock, utc_now
from services.store.circuits import DEFAULT_KEEP_TRANSITIONS, CircuitRecord, CircuitTransition
from services.store.entitlements import DEFAULT_KEEP as DEFAULT_KEEP_REFUSALS
from services.store.entitlements import Refusal
from services.store.errors import (
    ConflictError,
    LimitReachedError,
    NotFoundError,
    TokenExpiredError,
    TokenUsedError,
)
from services.store.models import Article, AuthType, Configuration, Session, SingleUseToken, User
from services.store.users import email_hash


class InMemoryUserRepository:
    def __init__(self) -> None:
        self.users: dict[str, User] = {}
        self.emails: dict[str, str] = {}
        self._lock = threading.Lock()

    def create(self, user: User) -> User:
        with self._lock:
            if user.user_id in self.users:
                raise ConflictError("user or e-mail already exists")
            if user.email and email_hash(user.email) in self.emails:
                raise ConflictError("user or e-mail already exists")
            self.users[user.user_id] = user
            if user.email:
                self.emails[email_hash(user.email)] = user.user_id
        return user

    def get(self, user_id: str) -> User:
        if user_id not in self.users:
            raise NotFoundError(f"user {user_id} not found")
        return self.users[user_id]

    def find_by_email(self, email: str) -> User | None:
        owner = self.emails.get(email_hash(email))
        return self.users.get(owner) if owner else None

    def upgrade(self, user: User, *, auth_type: AuthType, email: str | None) -> User:
        with self._lock:
            current = self.get(user.user_id)
            taken = email is not None and email_hash(email) in self.emails
            if current.version != user.version or taken:
                raise ConflictError(f"user {user.user_id} changed or e-mail taken")
            # An account never expires.
            upgraded = replace(
                current,
                auth_type=auth_type,
                email=email,
                version=current.version + 1,
                expires_at=None,
            )
            self.users[user.user_id] = upgraded
            if email:
                self.emails[email_hash(email)] = user.user_id
        return upgraded

    def list_accounts(self, *, limit: int) -> list[User]:
        accounts = sorted(
            (u for u in self.users.values() if u.email and u.auth_type != "anonymous"),
            key=lambda user: user.user_id,
        )
        return accounts[:limit]

    def set_config_count(self, user_id: str, delta: int, max_allowed: int | None) -> None:
        with self._lock:
            user = self.get(user_id)
            if max_allowed is not None and user.config_count >= max_allowed:
                raise LimitReachedError(f"maximum of {max_allowed} configuration(s) reached")
            self.users[user_id] = replace(user, config_count=user.config_count + delta)


class InMemorySessionRepository:
    def __init__(self) -> None:
        self.by_token: dict[str, Session] = {}

    def create(self, session: Session) -> Session:
        if session.token_hash in self.by_token:
            raise ConflictError("session or token already exists")
        self.by_token[session.token_hash] = session
        return session

    def find_by_token_hash(self, token_hash: str, now: datetime) -> Session | None:
        session = self.by_token.get(token_hash)
        return session if session is not None and session.is_active(now) else None

    def revoke(self, session: Session, now: datetime) -> Session:
        current = self.by_token.get(session.token_hash)
        if current is None or current.revoked_at is not None:
            raise NotFoundError("session already revoked or gone")
        revoked = replace(current, revoked_at=now)
        self.by_token[session.token_hash] = revoked
        return revoked

    def list_for_user(self, user_id: str, now: datetime) -> list[Session]:
        return [s for s in self.by_token.values() if s.user_id == user_id and s.is_active(now)]


class InMemoryTokenRepository:
    def __init__(self) -> None:
        self.tokens: dict[str, SingleUseToken] = {}
        self._lock = threading.Lock()

    def put(self, token: SingleUseToken) -> SingleUseToken:
        if token.token_hash in self.tokens:
            raise ConflictError("token already exists")
        self.tokens[token.token_hash] = token
        return token

    def consume(self, token_hash: str, kind: str, now: datetime) -> SingleUseToken:
        with self._lock:
            token = self.tokens.get(token_hash)
            if token is None or token.kind != kind:
                raise NotFoundError("unknown token")
            if token.used_at is not None:
                raise TokenUsedError("token already used")
            if token.expires_at <= now:
                raise TokenExpiredError("token expired")
            consumed = replace(token, used_at=now)
            self.tokens[token_hash] = consumed
        return consumed

    def peek(self, token_hash: str, kind: str, now: datetime) -> SingleUseToken:
        token = self.tokens.get(token_hash)
        if token is None or token.kind != kind:
            raise NotFoundError("unknown token")
        if token.used_at is not None:
            raise TokenUsedError("token already used")
        if token.expires_at <= now:
            raise TokenExpiredError("token expired")
        return token


class InMemoryConfigurationRepository:
    """Shares the user fake so the per-user count behaves like the profile counter."""

    def __init__(self, users: InMemoryUserRepository) -> None:
        self.users = users
        self.configs: dict[tuple[str, str], Configuration] = {}

    def create(self, config: Configuration, *, max_allowed: int) -> Configuration:
        key = (config.user_id, config.config_id)
        if key in self.configs:
            raise ConflictError("configuration already exists")
        self.users.set_config_count(config.user_id, +1, max_allowed)
        self.configs[key] = config
        return config

    def get(self, user_id: str, config_id: str) -> Configuration:
        config = self.configs.get((user_id, config_id))
        if config is None or config.deleted_at is not None:
            raise NotFoundError(f"configuration {config_id} not found")
        return config

    def list_for_user(self, user_id: str) -> list[Configuration]:
        found = [
            c for (owner, _), c in self.configs.items() if owner == user_id and c.deleted_at is None
        ]
        return sorted(found, key=lambda c: c.created_at)

    def update(self, config: Configuration, *, expected_version: int) -> Configuration:
        current = self.get(config.user_id, config.config_id)
        if current.version != expected_version:
            raise ConflictError(f"configuration {config.config_id} changed since it was read")
        updated = replace(config, version=expected_version + 1)
        self.configs[(config.user_id, config.config_id)] = updated
        return updated

    def soft_delete(self, user_id: str, config_id: str, now: datetime) -> Configuration:
        current = self.get(user_id, config_id)
        deleted = replace(current, deleted_at=now, version=current.version + 1)
        self.configs[(user_id, config_id)] = deleted
        self.users.set_config_count(user_id, -1, None)
        return deleted

    def transfer(
        self, config: Configuration, to_user_id: str, *, max_allowed: int, now: datetime
    ) -> Configuration:
        current = self.configs.get((config.user_id, config.config_id))
        if (
            current is None
            or current.deleted_at is not None
            or current.version != config.version
            or (to_user_id, config.config_id) in self.configs
        ):
            raise ConflictError(
                f"configuration {config.config_id} changed or moved since it was read"
            )
        self.users.set_config_count(to_user_id, +1, max_allowed)
        moved = replace(current, user_id=to_user_id, updated_at=now)
        self.configs[(to_user_id, config.config_id)] = moved
        self.configs[(config.user_id, config.config_id)] = replace(
            current, deleted_at=now, version=current.version + 1
        )
        self.users.set_config_count(config.user_id, -1, None)
        return moved

    def tracked_tickers(self) -> list[str]:
        live = (c for c in self.configs.values() if c.deleted_at is None)
        return sorted({t for c in live for t in c.tickers})


def _status_time(article: Article) -> datetime:
    """When the article entered its current status (the by_status / by_sentiment order)."""
    return article.analyzed_at or article.ingested_at


class InMemoryArticleRepository:
    def __init__(self, clock: Clock = utc_now) -> None:
        self.articles: dict[str, Article] = {}
        self._clock = clock

    def _live(self, article: Article) -> bool:
        return article.expires_at is None or article.expires_at > self._clock()

    def insert(self, article: Article) -> bool:
        current = self.articles.get(article.dedup_key)
        if current is not None:
            sources = {**article.sources, **current.sources}
            tickers = tuple(sorted(set(current.tickers) | set(article.tickers)))
            self.articles[article.dedup_key] = replace(current, sources=sources, tickers=tickers)
            return False
        self.articles[article.dedup_key] = article
        return True

    def get(self, dedup_key: str) -> Article:
        article = self.articles.get(dedup_key)
        if article is None or not self._live(article):
            raise NotFoundError(f"article {dedup_key} not found")
        return article

    def insert_many(self, articles: Sequence[Article]) -> list[str]:
        return [a.dedup_key for a in articles if self.insert(a)]

    def get_many(self, dedup_keys: Sequence[str]) -> list[Article]:
        found = [self.articles.get(k) for k in dict.fromkeys(dedup_keys)]
        return [a for a in found if a is not None and self._live(a)]

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
        article = self.get(dedup_key)
        if article.status != "pending":
            return False
        self.articles[dedup_key] = replace(
            article,
            status="analyzed",
            sentiment_score=score,
            sentiment_label=label,
            confidence=confidence,
            model_version=model_version,
            analyzed_at=now,
            relevance=dict(relevance) if relevance else article.relevance,
        )
        return True

    def list_by_status(
        self, status: str, *, before: datetime | None = None, limit: int = 100
    ) -> list[Article]:
        found = [
            a
            for a in self.articles.values()
            if a.status == status and self._live(a) and (before is None or _status_time(a) < before)
        ]
        return sorted(found, key=_status_time)[:limit]

    def latest_by_status(self, status: str, *, limit: int) -> list[Article]:
        found = [a for a in self.articles.values() if a.status == status]
        newest = sorted(found, key=_status_time, reverse=True)[:limit]
        return [a for a in newest if self._live(a)]

    def list_by_tag(self, ticker: str, *, since: datetime, until: datetime) -> list[str]:
        found = [
            a
            for a in self.articles.values()
            if ticker in a.tickers and since <= a.published_at <= until and self._live(a)
        ]
        return [a.dedup_key for a in sorted(found, key=lambda a: a.published_at)]

    def count_by_status(self, status: str) -> int:
        return sum(1 for a in self.articles.values() if a.status == status and self._live(a))

    def list_by_sentiment(self, label: str, *, since: datetime, limit: int = 100) -> list[Article]:
        found = [
            a
            for a in self.articles.values()
            if a.sentiment_label == label and _status_time(a) >= since and self._live(a)
        ]
        return sorted(found, key=_status_time, reverse=True)[:limit]


class InMemorySentimentStore:
    """Buckets in a dict; shares the article fake so status changes stay exactly-once."""

    def __init__(self, articles: InMemoryArticleRepository) -> None:
        self.articles = articles
        self.buckets: dict[BucketId, Bucket] = {}
        self._lock = threading.Lock()

    def record(self, scored: Sequence[ScoredArticle], now: datetime) -> list[str]:
        with self._lock:
            fresh = [
                s for s in scored if self.articles.get(s.article.dedup_key).status == "pending"
            ]
            for item in fresh:
                self.articles.mark_analyzed(
                    item.article.dedup_key,
                    score=item.score,
                    label=item.label,
                    confidence=item.confidence,
                    model_version=item.model_version,
                    now=now,
                    relevance=item.relevance,
                )
            for bucket_id, contribution in contributions(fresh).items():
                self._add(bucket_id, contribution)
        return [s.article.dedup_key for s in fresh]

    def record_samples(self, samples: Sequence[Sample], at: datetime) -> None:
        with self._lock:
            for bucket_id, contribution in sample_contributions(samples, at).items():
                self._add(bucket_id, contribution)

    def _add(self, bucket_id: BucketId, contribution: Contribution) -> None:
        self.buckets[bucket_id] = add_to_bucket(
            bucket_id, self.buckets.get(bucket_id), contribution
        )

    def history(
        self, ticker: str, source: str, resolution: Resolution, since: datetime, until: datetime
    ) -> list[Bucket]:
        low, high = bucket_start(since, resolution), bucket_start(until, resolution)
        found = [
            b
            for (t, s, r, _), b in self.buckets.items()
            if (t, s, r) == (ticker, source, resolution) and low <= b.start <= high
        ]
        return sorted(found, key=lambda b: b.start)


class InMemoryCircuitStore:
    """Version-checked like the table: one lock stands in for DynamoDB's conditional writes,
    so threads of a test race the way instances do."""

    def __init__(self, keep_transitions: timedelta = DEFAULT_KEEP_TRANSITIONS) -> None:
        self.records: dict[str, CircuitRecord] = {}
        self.log: list[tuple[CircuitTransition, datetime]] = []  # (transition, expires)
        self._keep = keep_transitions
        self._lock = threading.Lock()

    def get(self, service: str) -> CircuitRecord:
        return self.records.get(service, CircuitRecord(service))

    def save(
        self, record: CircuitRecord, *, transition: CircuitTransition | None = None
    ) -> CircuitRecord:
        with self._lock:
            if self.get(record.service).version != record.version:
                raise ConflictError(f"circuit {record.service} changed since it was read")
            stored = replace(record, version=record.version + 1)
            self.records[record.service] = stored
            if transition is not None:
                self.log.append((transition, transition.at + self._keep))
        return stored

    def transitions(self, now: datetime, *, limit: int = 50) -> list[CircuitTransition]:
        # Ordered as the table's sort key orders them: time, service, then the version
        # (which grows with each write, as the log's position does here).
        live = [(t.at, t.service, i, t) for i, (t, expires) in enumerate(self.log) if expires > now]
        return [entry[-1] for entry in sorted(live, reverse=True, key=lambda e: e[:3])][:limit]


class InMemoryQuotaStore:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.symbol_sets: dict[tuple[str, str], frozenset[str]] = {}
        self._lock = threading.Lock()

    def add(
        self, service: str, period: str, amount: int, *, now: datetime, expires_at: datetime
    ) -> int:
        with self._lock:
            total = self.counts.get((service, period), 0) + amount
            self.counts[(service, period)] = total
        return total

    def add_within(
        self,
        service: str,
        period: str,
        amount: int,
        *,
        cap: int,
        now: datetime,
        expires_at: datetime,
    ) -> int | None:
        with self._lock:
            total = self.counts.get((service, period), 0) + amount
            if total > cap:
                return None
            self.counts[(service, period)] = total
        return total

    def get(self, service: str, period: str) -> int:
        return self.counts.get((service, period), 0)

    def add_symbols(
        self,
        service: str,
        period: str,
        symbols: Collection[str],
        *,
        cap: int | None,
        now: datetime,
        expires_at: datetime,
    ) -> frozenset[str] | None:
        with self._lock:
            before = self.symbol_sets.get((service, period), frozenset())
            # The table's condition: the size before, whichever symbols are new.
            if cap is not None and len(before) > cap - len(set(symbols)):
                return None
            after = before | set(symbols)
            self.symbol_sets[(service, period)] = after
        return after

    def symbols(self, service: str, period: str) -> frozenset[str]:
        return self.symbol_sets.get((service, period), frozenset())


class InMemoryEntitlementStore:
    def __init__(self, *, keep: timedelta = DEFAULT_KEEP_REFUSALS) -> None:
        self.items: dict[tuple[str, str], Refusal] = {}
        self._keep = keep

    def record(self, refusal: Refusal) -> None:
        self.items[(refusal.provider, refusal.endpoint)] = refusal

    def refusals(self, now: datetime) -> list[Refusal]:
        return [r for r in self.items.values() if r.at + self._keep > now]

    def forget(self, provider: str, endpoint: str) -> None:
        self.items.pop((provider, endpoint), None)


class InMemoryRateWindows:
    """`DynamoRateWindows` in memory: one count map per (window, instance), overwritten."""

    def __init__(self) -> None:
        self.windows: dict[int, dict[str, dict[str, int]]] = {}
        self.publishes = 0
        self.reads = 0
        self._lock = threading.Lock()

    def publish(
        self, window_start: int, instance: str, counts: Mapping[str, int], expires_at: int
    ) -> None:
        with self._lock:
            self.windows.setdefault(window_start, {})[instance] = dict(counts)
            self.publishes += 1

    def others(self, window_start: int, instance: str) -> dict[str, int]:
        totals: dict[str, int] = {}
        with self._lock:
            self.reads += 1
            for owner, counts in self.windows.get(window_start, {}).items():
                if owner != instance:
                    for key, count in counts.items():
                        totals[key] = totals.get(key, 0) + count
        return totals


class InMemoryAllowanceStore:
    """`DynamoAllowanceStore` in memory: a count per (allowance, subject hash, period)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], int] = {}
        self.expiries: dict[tuple[str, str, str], datetime] = {}
        self._lock = threading.Lock()

    def take(
        self,
        name: str,
        subject_hash: str,
        period: str,
        *,
        limit: int,
        now: datetime,
        expires_at: datetime,
    ) -> int | None:
        key = (name, subject_hash, period)
        with self._lock:
            used = self.counts.get(key, 0)
            if used >= limit:
                return None
            self.counts[key] = used + 1
            self.expiries.setdefault(key, expires_at)
            return used + 1

    def give_back(self, name: str, subject_hash: str, period: str, *, now: datetime) -> None:
        key = (name, subject_hash, period)
        with self._lock:
            if self.counts.get(key, 0) > 0:
                self.counts[key] -= 1

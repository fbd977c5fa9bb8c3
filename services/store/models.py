"""The entities kept in the single table, as plain immutable values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

AuthType = Literal["anonymous", "email", "oauth"]
TokenKind = Literal["magic_link", "oauth_state", "unsubscribe"]
ArticleStatus = Literal["pending", "analyzed"]


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    auth_type: AuthType
    created_at: datetime
    email: str | None = None
    config_count: int = 0
    version: int = 1
    merged_into: str | None = None
    # Anonymous users only: when the table may forget them (their last session's expiry plus
    # a grace period). Accounts never expire; signing in removes it.
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Session:
    session_id: str
    user_id: str
    auth_type: AuthType
    token_hash: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    # The user's profile version when the session was opened: an instance whose cached copy
    # of the user is older (e.g. from before an upgrade) reads the user again.
    account_version: int | None = None

    def is_active(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


@dataclass(frozen=True, slots=True)
class SingleUseToken:
    """A magic-link, OAuth-state or unsubscribe token; only its hash is stored."""

    token_hash: str
    kind: TokenKind
    subject: str
    created_at: datetime
    expires_at: datetime
    data: dict[str, str] = field(default_factory=dict)
    used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Configuration:
    config_id: str
    user_id: str
    name: str
    tickers: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    version: int = 1
    deleted_at: datetime | None = None


AlertType = Literal["sentiment_threshold", "volatility_threshold"]
Direction = Literal["above", "below"]


@dataclass(frozen=True, slots=True)
class Alert:
    """A rule on one ticker of a configuration (kept under the configuration's partition)."""

    alert_id: str
    user_id: str
    config_id: str
    ticker: str
    alert_type: AlertType
    direction: Direction
    threshold: float
    enabled: bool
    created_at: datetime
    updated_at: datetime
    last_triggered_at: datetime | None = None
    # True from the moment the rule fires until its condition clears (one crossing, one
    # e-mail).
    in_breach: bool = False


@dataclass(frozen=True, slots=True)
class Article:
    """A news story, deduplicated across providers (one item, each provider's attribution)."""

    dedup_key: str
    title: str
    description: str
    url: str
    published_at: datetime
    tickers: tuple[str, ...]
    sources: dict[str, str]
    ingested_at: datetime
    status: ArticleStatus = "pending"
    sentiment_label: str | None = None
    sentiment_score: float | None = None
    confidence: float | None = None
    model_version: str | None = None
    analyzed_at: datetime | None = None
    expires_at: datetime | None = None
    # Per listed ticker, how much the story is about it (recorded by analysis).
    relevance: dict[str, float] | None = None

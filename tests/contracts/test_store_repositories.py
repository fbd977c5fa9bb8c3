"""Repository contracts, checked against both the in-memory fakes and DynamoDB Local."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.store.errors import (
    ConflictError,
    LimitReachedError,
    NotFoundError,
    TokenExpiredError,
    TokenUsedError,
)
from services.store.models import Article, Configuration, Session, SingleUseToken, User

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def a_user(user_id: str = "u1", **changes: object) -> User:
    return replace(User(user_id=user_id, auth_type="anonymous", created_at=NOW), **changes)  # type: ignore[arg-type]


def a_config(config_id: str = "c1", user_id: str = "u1") -> Configuration:
    return Configuration(
        config_id=config_id,
        user_id=user_id,
        name="Tech Watchlist",
        tickers=("AAPL", "MSFT"),
        created_at=NOW,
        updated_at=NOW,
    )


def an_article(key: str = "k1", published: datetime = NOW, **changes: object) -> Article:
    article = Article(
        dedup_key=key,
        title="Apple beats estimates",
        description="Record quarter",
        url=f"https://news.example/{key}",
        published_at=published,
        tickers=("AAPL", "MSFT"),
        sources={"tiingo": "1"},
        ingested_at=NOW,
    )
    return replace(article, **changes)  # type: ignore[arg-type]


def test_users_create_get_and_duplicate_id_conflicts(repos) -> None:
    # Given a stored user, When the same id is created again, Then it conflicts.
    repos.users.create(a_user())
    assert repos.users.get("u1").auth_type == "anonymous"
    with pytest.raises(ConflictError):
        repos.users.create(a_user())
    with pytest.raises(NotFoundError):
        repos.users.get("nobody")


def test_users_email_is_unique_and_found_case_insensitively(repos) -> None:
    repos.users.create(a_user("u1", auth_type="email", email="Jane@Example.com"))
    assert repos.users.find_by_email("jane@example.com").user_id == "u1"
    with pytest.raises(ConflictError):
        repos.users.create(a_user("u2", auth_type="email", email="jane@example.com"))
    assert repos.users.find_by_email("other@example.com") is None


def test_users_upgrade_is_optimistic(repos) -> None:
    # Given a user read at version 1, When it is upgraded twice from that same read,
    # Then the second upgrade loses instead of overwriting the first.
    user = repos.users.create(a_user())
    upgraded = repos.users.upgrade(user, auth_type="email", email="a@b.io")
    assert (upgraded.auth_type, upgraded.email, upgraded.version) == ("email", "a@b.io", 2)
    with pytest.raises(ConflictError):
        repos.users.upgrade(user, auth_type="oauth", email=None)


def test_sessions_found_by_token_hash_until_revoked_or_expired(repos) -> None:
    repos.users.create(a_user())
    session = Session("s1", "u1", "anonymous", "hash1", NOW, NOW + timedelta(hours=1))
    repos.sessions.create(session)
    assert repos.sessions.find_by_token_hash("hash1", NOW).session_id == "s1"
    assert repos.sessions.find_by_token_hash("hash1", NOW + timedelta(hours=2)) is None
    assert [s.session_id for s in repos.sessions.list_for_user("u1", NOW)] == ["s1"]
    repos.sessions.revoke(session, NOW)
    assert repos.sessions.find_by_token_hash("hash1", NOW) is None
    assert repos.sessions.list_for_user("u1", NOW) == []
    with pytest.raises(NotFoundError):
        repos.sessions.revoke(session, NOW)


def test_sessions_unknown_token_is_none(repos) -> None:
    assert repos.sessions.find_by_token_hash("nope", NOW) is None


def test_tokens_are_single_use(repos) -> None:
    token = SingleUseToken("th", "magic_link", "a@b.io", NOW, NOW + timedelta(minutes=15))
    repos.tokens.put(token)
    consumed = repos.tokens.consume("th", "magic_link", NOW + timedelta(minutes=1))
    assert consumed.used_at == NOW + timedelta(minutes=1)
    assert consumed.subject == "a@b.io"
    with pytest.raises(TokenUsedError):
        repos.tokens.consume("th", "magic_link", NOW + timedelta(minutes=2))


def test_tokens_expire_and_unknown_or_wrong_kind_is_not_found(repos) -> None:
    repos.tokens.put(SingleUseToken("th", "magic_link", "x", NOW, NOW + timedelta(minutes=15)))
    with pytest.raises(TokenExpiredError):
        repos.tokens.consume("th", "magic_link", NOW + timedelta(minutes=16))
    with pytest.raises(NotFoundError):
        repos.tokens.consume("th", "oauth_state", NOW)
    with pytest.raises(NotFoundError):
        repos.tokens.consume("missing", "magic_link", NOW)


def test_configs_limit_is_enforced_and_delete_frees_a_slot(repos) -> None:
    repos.users.create(a_user())
    repos.configs.create(a_config("c1"), max_allowed=2)
    repos.configs.create(a_config("c2"), max_allowed=2)
    with pytest.raises(LimitReachedError):
        repos.configs.create(a_config("c3"), max_allowed=2)
    repos.configs.soft_delete("u1", "c1", NOW)
    repos.configs.create(a_config("c3"), max_allowed=2)
    assert [c.config_id for c in repos.configs.list_for_user("u1")] == ["c2", "c3"]


def test_configs_soft_delete_hides_but_second_delete_is_not_found(repos) -> None:
    repos.users.create(a_user())
    repos.configs.create(a_config(), max_allowed=1)
    deleted = repos.configs.soft_delete("u1", "c1", NOW)
    assert deleted.deleted_at == NOW
    with pytest.raises(NotFoundError):
        repos.configs.get("u1", "c1")
    with pytest.raises(NotFoundError):
        repos.configs.soft_delete("u1", "c1", NOW)
    assert repos.configs.list_for_user("u1") == []


def test_configs_update_uses_optimistic_concurrency(repos) -> None:
    repos.users.create(a_user())
    config = repos.configs.create(a_config(), max_allowed=1)
    updated = repos.configs.update(replace(config, name="Renamed"), expected_version=1)
    assert updated.version == 2
    assert repos.configs.get("u1", "c1").name == "Renamed"
    with pytest.raises(ConflictError):
        repos.configs.update(replace(config, name="Stale write"), expected_version=1)


def test_configs_are_private_to_their_user(repos) -> None:
    repos.users.create(a_user("u1"))
    repos.users.create(a_user("u2"))
    repos.configs.create(a_config("c1", "u1"), max_allowed=1)
    with pytest.raises(NotFoundError):
        repos.configs.get("u2", "c1")
    assert repos.configs.list_for_user("u2") == []


def test_articles_insert_is_idempotent_and_merges_attribution(repos) -> None:
    assert repos.articles.insert(an_article()) is True
    assert repos.articles.insert(an_article(sources={"finnhub": "99"})) is False
    assert repos.articles.get("k1").sources == {"tiingo": "1", "finnhub": "99"}


def test_articles_indexes_by_status_tag_and_sentiment(repos) -> None:
    earlier = NOW - timedelta(hours=2)
    repos.articles.insert(an_article("old", earlier, ingested_at=earlier))
    repos.articles.insert(an_article("new", NOW, tickers=("NVDA",)))
    pending = repos.articles.list_by_status("pending")
    assert [a.dedup_key for a in pending] == ["old", "new"]
    assert [a.dedup_key for a in repos.articles.list_by_status("pending", before=NOW)] == ["old"]
    since, until = NOW - timedelta(days=1), NOW + timedelta(minutes=1)
    assert repos.articles.list_by_tag("AAPL", since=since, until=until) == ["old"]
    assert repos.articles.list_by_tag("NVDA", since=since, until=until) == ["new"]

    analyzed = repos.articles.mark_analyzed(
        "new", score=0.8, label="positive", confidence=0.9, model_version="m1", now=NOW
    )
    assert repos.articles.get("new").analyzed_at == NOW
    again = repos.articles.mark_analyzed(
        "new", score=0.1, label="neutral", confidence=0.5, model_version="m1", now=NOW
    )
    assert (analyzed, again) == (True, False)
    positive = repos.articles.list_by_sentiment("positive", since=since)
    assert [(a.dedup_key, a.sentiment_score) for a in positive] == [("new", 0.8)]
    assert [a.dedup_key for a in repos.articles.list_by_status("analyzed")] == ["new"]
    assert [a.dedup_key for a in repos.articles.list_by_status("pending")] == ["old"]


def test_articles_latest_by_status_are_the_newest_to_enter_it_and_bounded(repos) -> None:
    # Given five analyzed articles, one a minute, and one still pending
    for minute in range(5):
        key = f"a{minute}"
        repos.articles.insert(an_article(key))
        repos.articles.mark_analyzed(
            key,
            score=0.1,
            label="neutral",
            confidence=0.5,
            model_version="m1",
            now=NOW + timedelta(minutes=minute),
        )
    repos.articles.insert(an_article("waiting"))

    # When the latest three are asked for, Then they come newest first, and only those
    latest = repos.articles.latest_by_status("analyzed", limit=3)
    assert [a.dedup_key for a in latest] == ["a4", "a3", "a2"]
    assert [a.dedup_key for a in repos.articles.latest_by_status("pending", limit=10)] == [
        "waiting"
    ]


def test_articles_expired_items_are_filtered_on_read(repos) -> None:
    # Given an article whose TTL passed (DynamoDB has not deleted it yet),
    # When it is read by key or through an index, Then it is not returned.
    expired = an_article("gone", expires_at=datetime(2020, 1, 1, tzinfo=UTC))
    repos.articles.insert(expired)
    with pytest.raises(NotFoundError):
        repos.articles.get("gone")
    assert repos.articles.list_by_status("pending") == []
    assert repos.articles.list_by_tag("AAPL", since=NOW - timedelta(days=9), until=NOW) == []


def test_tracked_tickers_follow_live_configurations(repos) -> None:
    # Given two users watching overlapping tickers, When configs change and are deleted,
    # Then the tracked set is exactly the union of live configurations' tickers.
    repos.users.create(a_user("u1"))
    repos.users.create(a_user("u2"))
    first = repos.configs.create(a_config("c1", "u1"), max_allowed=2)  # AAPL, MSFT
    repos.configs.create(replace(a_config("c2", "u2"), tickers=("MSFT", "NVDA")), max_allowed=2)
    assert repos.configs.tracked_tickers() == ["AAPL", "MSFT", "NVDA"]
    repos.configs.update(replace(first, tickers=("TSLA",)), expected_version=1)
    assert repos.configs.tracked_tickers() == ["MSFT", "NVDA", "TSLA"]
    repos.configs.soft_delete("u2", "c2", NOW)
    assert repos.configs.tracked_tickers() == ["TSLA"]

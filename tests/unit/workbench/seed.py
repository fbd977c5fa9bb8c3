"""What a stack that has run for a while holds, written through the in-memory repositories as
ingestion and analysis write it: scored stories of a few tickers over the last days, stories
still waiting for analysis, and analyzed stories of the labelled headlines."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from services.analysis.buckets import ScoredArticle
from services.local.emulators.headlines import labelled_headlines, story_slug
from services.store.memory import MemoryStore
from services.store.models import Article
from services.store.outbox import OutboxEmail

SEED_MODEL = "seed-model-v1"


def _story(key: str, ticker: str, published: datetime, url: str | None = None) -> Article:
    return Article(
        dedup_key=key,
        title=f"{ticker} story {key}",
        description="",
        url=url or f"https://news.example/{key}",
        published_at=published,
        tickers=(ticker,),
        sources={"tiingo": key},
        ingested_at=published,
    )


def _label(score: float) -> str:
    return "positive" if score > 0.05 else "negative" if score < -0.05 else "neutral"


def scored_history(memory: MemoryStore, now: datetime, tickers: Sequence[str], days: int) -> None:
    """One scored Tiingo story a day per ticker for `days` days, the newest an hour ago:
    each day's bucket of each ticker holds one score, the recent hours the newest."""
    for ticker in tickers:
        scored = []
        for day in range(days):
            story = _story(f"seed-{ticker}-{day}", ticker, now - timedelta(days=day, hours=1))
            memory.articles.insert(story)
            score = round(0.1 * (day + 1) * (1 if len(ticker) % 2 else -1), 2)
            scored.append(ScoredArticle(story, score, _label(score), 0.8, SEED_MODEL))
        memory.sentiment.record(scored, now)


def pending(memory: MemoryStore, now: datetime, count: int) -> None:
    """`count` stories stored and not analyzed yet."""
    for n in range(count):
        memory.articles.insert(_story(f"seed-pending-{n}", "AAPL", now - timedelta(minutes=n)))


def labelled(memory: MemoryStore, now: datetime, pairs: Sequence[tuple[str, str]]) -> None:
    """Analyzed stories of the labelled headlines: each pair is (the headline's tone, the
    label the analysis stored), in the order they were analyzed."""
    headlines = labelled_headlines()
    for n, (truth, stored) in enumerate(pairs):
        headline = headlines.of_tone(truth)[n]  # type: ignore[arg-type]
        # A story of its own each time, even of a headline drawn before.
        digest = uuid.uuid4().hex[:12]
        key = f"labelled-{digest}"
        url = f"https://news.example/{story_slug(headline, digest)}"
        story = _story(key, "AAPL", now - timedelta(minutes=len(pairs) - n), url)
        memory.articles.insert(story)
        score = {"positive": 0.6, "negative": -0.6}.get(stored, 0.0)
        scored = ScoredArticle(story, score, stored, 0.9, SEED_MODEL)
        memory.sentiment.record([scored], now + timedelta(seconds=n))


def queued_emails(memory: MemoryStore, now: datetime, count: int) -> None:
    """`count` alert e-mails in the outbox, waiting for the notification function."""
    for n in range(count):
        memory.outbox.enqueue(
            OutboxEmail(
                idempotency_key=f"seed-alert-{n}",
                kind="alert",
                user_id=None,
                to=f"reader{n}@example.com",
                subject="AAPL crossed your threshold",
                text="AAPL sentiment is below -0.2",
                created_at=now,
                deliver_by=now + timedelta(days=1),
                next_attempt_at=now,
            )
        )

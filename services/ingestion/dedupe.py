"""One story, one item: the content key that recognises a story across providers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from services.adapters.models import NewsArticle
from services.store.models import Article

_TRACKING = re.compile(r"^(utm_|fbclid|gclid|mc_|ref$|cmpid)", re.IGNORECASE)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, tracking parameters and fragment dropped."""
    parts = urlsplit(url.strip())
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)))
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, query, ""))


def dedup_key(article: NewsArticle) -> str:
    """The same story from Tiingo and Finnhub (same URL) gets the same key.

    Without a URL, the normalised headline and publication day identify the story.
    """
    if article.url.strip():
        basis = canonical_url(article.url)
    else:
        title = _NON_WORD.sub(" ", article.title.lower()).strip()
        basis = f"{title}|{article.published_at.date().isoformat()}"
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def merge(
    fetched: Iterable[NewsArticle], *, now: datetime, retention: timedelta
) -> dict[str, Article]:
    """Group provider articles into stories: union of tickers, one attribution per provider."""
    stories: dict[str, Article] = {}
    for item in fetched:
        key = dedup_key(item)
        current = stories.get(key)
        if current is None:
            stories[key] = Article(
                dedup_key=key,
                title=item.title,
                description=item.description,
                url=item.url,
                published_at=item.published_at,
                tickers=tuple(sorted(set(item.tickers))),
                sources={item.provider: item.provider_id},
                ingested_at=now,
                expires_at=now + retention,
            )
            continue
        stories[key] = Article(
            dedup_key=key,
            title=current.title,
            # Keep the longer description: Tiingo's and Finnhub's summaries differ in length.
            description=max(current.description, item.description, key=len),
            url=current.url,
            published_at=min(current.published_at, item.published_at),
            tickers=tuple(sorted(set(current.tickers) | set(item.tickers))),
            sources={**current.sources, item.provider: item.provider_id},
            ingested_at=now,
            expires_at=current.expires_at,
        )
    return stories

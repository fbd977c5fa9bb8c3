"""The market both emulators describe: seedable news stories and prices that agree with them.

Everything is derived lazily from `(seed, ticker, day)`, so any day of any ticker can be asked
for in any order and comes out the same every time. Each ticker has a *tone* per trading day;
that day's stories lean the same way and the day's price drift follows it, so a chart of
price against sentiment shows a real relationship. Stories appear as the clock passes their
publication time (a live stream); `inject` adds stories at "now" for demos and tests.

A story's headline is a real one whose sentiment label is the story's tone (`headlines.py`),
and its URL names that headline, so how well the pipeline scored the news can be measured
against known labels (`services/local/live_accuracy.py`).

The world also keeps the oracle: every story an emulator returned, per provider.
"""

from __future__ import annotations

import hashlib
import math
import random
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal

from services.adapters.models import Candle
from services.clock import Clock, utc_now
from services.local.emulators.headlines import Tone, labelled_headlines, render_title, story_slug
from services.market.universe import Ticker, TickerUniverse

ProviderName = Literal["tiingo", "finnhub"]
PROVIDERS: tuple[ProviderName, ...] = ("tiingo", "finnhub")

#: Daily prices start here; every series is a walk forward from the ticker's reference price.
PRICE_ANCHOR = date(2024, 1, 2)
SESSION_OPEN = time(14, 30)  # 09:30 New York (EST), in UTC
SESSION_MINUTES = 390
# How far a day's tone moves its close (log return per unit of tone). The news are real
# headlines, which the model reads less surely than the templates they replaced; at 0.014
# the daily sentiment the pipeline stores still correlates with the same day's return (about
# 0.2 over three tickers and six months, with the linear model; more with the default scorer),
# so the analytics find the link the emulator was built to show.
TONE_DRIFT = 0.014

OUTLETS = (
    ("Market Wire", "marketwire.example"),
    ("Street Ledger", "streetledger.example"),
    ("Capital Desk", "capitaldesk.example"),
    ("Ticker Tape Daily", "tickertape.example"),
    ("Equity Journal", "equityjournal.example"),
)


@dataclass(frozen=True, slots=True)
class Story:
    """One news story as the world knows it; each provider renders it in its own format."""

    story_id: str
    tiingo_id: int
    finnhub_id: int
    title: str
    description: str
    url: str
    source: str
    published_at: datetime
    tickers: tuple[str, ...]  # the first is the company the story is about
    tone: Tone
    providers: tuple[ProviderName, ...]
    tags: tuple[str, ...] = ()
    # The labelled headline the title was rendered from (`tfns-valid-<row>`).
    headline: str = ""

    @property
    def primary(self) -> str:
        return self.tickers[0]


@dataclass
class _Oracle:
    lock: threading.Lock = field(default_factory=threading.Lock)
    emitted: dict[ProviderName, dict[str, Story]] = field(
        default_factory=lambda: {p: {} for p in PROVIDERS}
    )


class NewsWorld:
    def __init__(
        self,
        seed: int = 7,
        *,
        universe: TickerUniverse | None = None,
        clock: Clock = utc_now,
        stories_per_day: float = 6.0,
    ) -> None:
        self.seed = seed
        self.universe = universe or TickerUniverse.load()
        self.clock = clock
        self.stories_per_day = stories_per_day
        self._injected: list[Story] = []
        self._inject_lock = threading.Lock()
        self._oracle = _Oracle()
        self._peers: dict[str, tuple[str, ...]] = {}
        by_sector: dict[str, list[str]] = {}
        for symbol in self.universe.symbols:
            ticker = self.universe.get(symbol)
            assert ticker is not None
            by_sector.setdefault(ticker.sector, []).append(symbol)
        for symbols in by_sector.values():
            for symbol in symbols:
                self._peers[symbol] = tuple(s for s in symbols if s != symbol)
        # Per-instance caches (a module-level cache would pin every world in memory).
        self._day_stories = lru_cache(maxsize=8192)(self._generate_day)
        self._daily_cache = lru_cache(maxsize=256)(self._generate_daily)

    # --- news --------------------------------------------------------------------------

    def stories(
        self,
        tickers: Iterable[str],
        start: datetime,
        end: datetime,
        provider: ProviderName | None = None,
    ) -> list[Story]:
        """Stories published in [start, end] (never after now) mentioning any of `tickers`."""
        end = min(end, self.clock())
        wanted = {t.upper() for t in tickers if self.universe.is_listed(t)}
        found: dict[str, Story] = {}
        day = start.date()
        while day <= end.date():
            for ticker in wanted:
                # A story about a peer that mentions this ticker counts too.
                for author in (ticker, *self._peers.get(ticker, ())):
                    for story in self._day_stories(author, day):
                        if ticker in story.tickers:
                            found[story.story_id] = story
            day += timedelta(days=1)
        with self._inject_lock:
            for story in self._injected:
                if wanted & set(story.tickers):
                    found[story.story_id] = story
        return sorted(
            (
                s
                for s in found.values()
                if start <= s.published_at <= end and (provider is None or provider in s.providers)
            ),
            key=lambda s: (s.published_at, s.story_id),
            reverse=True,
        )

    def inject(
        self,
        ticker: str,
        count: int = 1,
        *,
        tone: Tone | None = None,
        providers: Sequence[ProviderName] | None = None,
        published_at: datetime | None = None,
    ) -> list[Story]:
        """New stories about `ticker`, published now (or at `published_at`)."""
        symbol = ticker.upper()
        company = self.universe.get(symbol)
        if company is None:
            raise ValueError(f"unknown ticker {ticker!r}")
        moment = published_at or self.clock()
        with self._inject_lock:
            first = len(self._injected)
            rng = random.Random(f"{self.seed}|inject|{first}")
            new = [
                self._story(
                    company,
                    f"inject-{first + i}",
                    moment,
                    tone or _draw_tone(rng, 0.0),
                    rng,
                    tuple(providers) if providers else None,
                )
                for i in range(count)
            ]
            self._injected += new
        return new

    def record_emitted(self, provider: ProviderName, stories: Iterable[Story]) -> None:
        with self._oracle.lock:
            seen = self._oracle.emitted[provider]
            for story in stories:
                seen[story.story_id] = story

    def emitted(self, provider: ProviderName | None = None) -> list[Story]:
        """Every story an emulator returned so far (the end-to-end tests' oracle)."""
        with self._oracle.lock:
            names = PROVIDERS if provider is None else (provider,)
            merged = {sid: s for name in names for sid, s in self._oracle.emitted[name].items()}
        return sorted(merged.values(), key=lambda s: (s.published_at, s.story_id))

    def tone_of_day(self, ticker: str, day: date) -> float:
        """The ticker's news tone on `day`, in [-1, 1]; prices drift the same way."""
        rng = random.Random(f"{self.seed}|tone|{ticker}|{day.isoformat()}")
        return max(-1.0, min(1.0, rng.gauss(0.0, 0.45)))

    def _generate_day(self, ticker: str, day: date) -> tuple[Story, ...]:
        company = self.universe.get(ticker)
        if company is None:
            return ()
        rng = random.Random(f"{self.seed}|news|{ticker}|{day.isoformat()}")
        weekend = day.weekday() >= 5
        count = _poisson(rng, self.stories_per_day * (0.35 if weekend else 1.0))
        lean = self.tone_of_day(ticker, day)
        start = datetime.combine(day, time(11, 0), UTC)
        return tuple(
            self._story(
                company,
                f"{day.isoformat()}-{index}",
                start + timedelta(seconds=rng.uniform(0, 12 * 3600)),
                _draw_tone(rng, lean),
                rng,
                None,
            )
            for index in range(count)
        )

    def _story(
        self,
        company: Ticker,
        local_id: str,
        moment: datetime,
        tone: Tone,
        rng: random.Random,
        providers: tuple[ProviderName, ...] | None,
    ) -> Story:
        story_id = f"{company.symbol}-{local_id}"
        digest = hashlib.sha256(f"{self.seed}|{story_id}".encode()).digest()
        headline = rng.choice(labelled_headlines().of_tone(tone))
        # No description of our own: any sentence we added could move the sentiment away
        # from the headline's label, and analysis reads the description too.
        description = ""
        outlet, domain = rng.choice(OUTLETS)
        tickers = [company.symbol]
        peers = self._peers.get(company.symbol, ())
        if peers and rng.random() < 0.25:
            peer = self.universe.get(rng.choice(peers))
            assert peer is not None
            tickers.append(peer.symbol)
            # Naming the peer is what lists it (and gives it its relevance). Its cashtag alone,
            # as the headlines' own tweets list tickers: even a neutral sentence such as "the
            # story also mentions ..." pulled the model's labels towards neutral (accuracy on
            # three weeks of news 0.745 against 0.791 without it), so it would be measured too.
            description = f"${peer.symbol}"
        if providers is None:
            roll = rng.random()
            providers = ("tiingo",) if roll < 0.35 else ("finnhub",) if roll < 0.7 else PROVIDERS
        slug = story_slug(headline, digest.hex()[:10])
        return Story(
            story_id=story_id,
            tiingo_id=int.from_bytes(digest[:4], "big") & 0x7FFFFFFF,
            finnhub_id=int.from_bytes(digest[4:8], "big") & 0x7FFFFFFF,
            title=render_title(headline.text, company.symbol),
            description=description,
            url=f"https://{domain}/{moment:%Y/%m/%d}/{slug}",
            source=outlet,
            published_at=moment,
            tickers=tuple(tickers),
            tone=tone,
            providers=providers,
            tags=(company.sector, "Stock"),
            headline=headline.reference,
        )

    # --- Finnhub-style figures -------------------------------------------------------------

    def news_sentiment(self, ticker: str) -> dict[str, float | int]:
        """Finnhub's weekly figures computed from the stories of the last 7 days (and 4 weeks)."""
        now = self.clock()
        week = self.stories([ticker], now - timedelta(days=7), now)
        month = self.stories([ticker], now - timedelta(days=28), now)
        bullish = sum(1 for s in week if s.tone == "positive")
        bearish = sum(1 for s in week if s.tone == "negative")
        polar = bullish + bearish
        weekly_average = len(month) / 4.0
        return {
            "articles_in_last_week": len(week),
            "weekly_average": weekly_average,
            "buzz": len(week) / weekly_average if weekly_average else 0.0,
            "bullish_percent": bullish / polar if polar else 0.0,
            "bearish_percent": bearish / polar if polar else 0.0,
            "company_news_score": (
                (bullish + 0.5 * (len(week) - polar)) / len(week) if week else 0.0
            ),
        }

    # --- prices ----------------------------------------------------------------------------

    def daily_bars(self, ticker: str, start: date, end: date) -> list[Candle]:
        """Trading-day OHLCV bars in [start, end], never past today."""
        end = min(end, self.clock().date())
        if end < PRICE_ANCHOR or self.universe.get(ticker) is None:
            return []
        series = self._daily_cache(ticker.upper(), end)
        return [bar for bar in series if start <= bar.timestamp.date() <= end]

    def intraday_bars(
        self, ticker: str, start: datetime, end: datetime, minutes: int
    ) -> list[Candle]:
        """Bars of `minutes` within each session, bridging that day's open to its close."""
        end = min(end, self.clock())
        bars: list[Candle] = []
        for day_bar in self.daily_bars(ticker, start.date(), end.date()):
            day = day_bar.timestamp.date()
            rng = random.Random(f"{self.seed}|intraday|{ticker}|{day.isoformat()}|{minutes}")
            steps = SESSION_MINUTES // minutes
            session = datetime.combine(day, SESSION_OPEN, UTC)
            path = _bridge(rng, day_bar.open, day_bar.close, steps)
            for step in range(steps):
                moment = session + timedelta(minutes=step * minutes)
                if not (start <= moment <= end):
                    continue
                low_open, close = path[step], path[step + 1]
                wiggle = abs(close - low_open) + day_bar.close * 0.0008
                bars.append(
                    Candle(
                        moment,
                        round(low_open, 2),
                        round(max(low_open, close) + rng.uniform(0, wiggle), 2),
                        round(min(low_open, close) - rng.uniform(0, wiggle), 2),
                        round(close, 2),
                        int(day_bar.volume / steps * rng.uniform(0.5, 1.5)),
                    )
                )
        return bars

    def _generate_daily(self, ticker: str, end: date) -> tuple[Candle, ...]:
        company = self.universe.get(ticker)
        assert company is not None
        rng = random.Random(f"{self.seed}|prices|{ticker}")
        price = company.reference_price
        base_volume = 2_000_000 + rng.randrange(30_000_000)
        bars: list[Candle] = []
        day = PRICE_ANCHOR
        while day <= end:
            if day.weekday() < 5:
                tone = self.tone_of_day(ticker, day)
                change = 0.0002 + TONE_DRIFT * tone + rng.gauss(0.0, 0.012)
                open_ = price * (1 + rng.gauss(0.0, 0.004))
                close = max(1.0, price * math.exp(change))
                high = max(open_, close) * (1 + abs(rng.gauss(0.0, 0.006)))
                low = min(open_, close) * (1 - abs(rng.gauss(0.0, 0.006)))
                volume = int(base_volume * (1 + abs(tone)) * rng.uniform(0.7, 1.3))
                bars.append(
                    Candle(
                        datetime.combine(day, time(0, 0), UTC),
                        round(open_, 2),
                        round(high, 2),
                        round(low, 2),
                        round(close, 2),
                        volume,
                    )
                )
                price = close
            day += timedelta(days=1)
        return tuple(bars)


def _draw_tone(rng: random.Random, lean: float) -> Tone:
    positive = 0.3 + 0.3 * lean
    negative = 0.3 - 0.3 * lean
    roll = rng.random()
    if roll < positive:
        return "positive"
    return "negative" if roll < positive + negative else "neutral"


def _poisson(rng: random.Random, mean: float) -> int:
    # Knuth's method: fine for the small means used here.
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _bridge(rng: random.Random, start: float, end: float, steps: int) -> list[float]:
    """A random path of `steps` moves from `start` that ends exactly at `end`."""
    walk = [0.0]
    for _ in range(steps):
        walk.append(walk[-1] + rng.gauss(0.0, start * 0.0015))
    drift = walk[-1]
    return [
        start + (end - start) * i / steps + walk[i] - drift * i / steps for i in range(steps + 1)
    ]

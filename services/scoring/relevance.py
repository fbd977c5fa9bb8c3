"""How much a news article is about each ticker it lists, in [0, 1].

Providers attach every ticker a story touches: a story about Apple that compares the move with
Microsoft lists both. Averaging its sentiment into Microsoft's as if it were Microsoft's news
lets a passing mention drag Microsoft's figure around. Relevance says how much of the story is
about the ticker, from where and how often the company is named:

    relevance = LISTED                                      always (the provider listed it)
              + HEADLINE                                    named in the headline
              + min(DESCRIPTION_CAP, DESCRIPTION_FIRST + DESCRIPTION_MORE * (n - 1))
                                                            named n >= 1 times in the description

so a story that only lists a ticker weighs 0.1, one that names it in passing in its body 0.25
to 0.4, and one whose headline is about it 0.7 to 1.0. The per-ticker aggregates weight each
article's score by its relevance (`services.analysis.buckets`).

A company is "named" by its symbol (an upper-case word, `$AAPL` included) or its name as the
exchange list spells it, with or without the legal suffix ("Apple Inc.", "Apple") and, where
that leaves a distinctive word, without a trailing descriptor ("Meta Platforms", "Meta").
Names must start with their capital letter, the rest in any case ("NVIDIA", "Nvidia"), so a
lower-case common word ("apple", "visa") is not a mention. The patterns are compiled once per
symbol; scoring an article costs two regular-expression scans per listed ticker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from services.market.universe import Ticker, TickerUniverse

LISTED = 0.1
HEADLINE = 0.6
DESCRIPTION_FIRST = 0.15
DESCRIPTION_MORE = 0.1
DESCRIPTION_CAP = 0.3

# Legal suffixes dropped to get the name people write ("Apple Inc." -> "Apple").
_LEGAL_SUFFIXES = (
    "Inc.",
    "Inc",
    "Incorporated",
    "Corporation",
    "Corp.",
    "Company",
    "& Co.",
    "Co.",
    "plc",
    "Ltd.",
    "Group",
)
_CLASS_SUFFIX = re.compile(r"\s+Class\s+[A-Z]$")
# Trailing descriptors dropped when what remains is a distinctive name ("Cisco Systems").
_DESCRIPTORS = frozenset(
    {
        "Platforms",
        "Technology",
        "Technologies",
        "Global",
        "Communications",
        "Systems",
        "Wholesale",
        "Holdings",
        "Scientific",
        "International",
        "Motor",
    }
)
# Words too common to stand for one company on their own.
_GENERIC = frozenset(
    {"American", "Applied", "Bank", "General", "Home", "International", "United", "The"}
)


@dataclass(frozen=True, slots=True)
class Mentions:
    """Where a ticker is named in one article."""

    headline: int
    description: int

    @property
    def relevance(self) -> float:
        score = LISTED
        if self.headline:
            score += HEADLINE
        if self.description:
            extra = DESCRIPTION_FIRST + DESCRIPTION_MORE * (self.description - 1)
            score += min(DESCRIPTION_CAP, extra)
        return min(1.0, score)


def aliases(ticker: Ticker) -> tuple[str, ...]:
    """The ways a company is written: full name, without legal suffix, without descriptor."""
    found = [ticker.name]
    name = _CLASS_SUFFIX.sub("", ticker.name.strip())
    changed = True
    while changed:
        changed = False
        for suffix in _LEGAL_SUFFIXES:
            if name.endswith(" " + suffix):
                name = name[: -len(suffix) - 1].rstrip(" ,")
                changed = True
        for connector in (" and", " &"):
            if name.endswith(connector):  # "Eli Lilly and Company" -> "Eli Lilly"
                name = name[: -len(connector)]
                changed = True
    found.append(name)
    if name.startswith("The "):
        name = name[4:]
        found.append(name)
    if name.endswith(".com"):
        name = name[: -len(".com")]
        found.append(name)
    words = name.split()
    if len(words) > 1 and words[-1] in _DESCRIPTORS:
        shorter = " ".join(words[:-1])
        if shorter not in _GENERIC:
            found.append(shorter)
    unique = {a for a in found if len(a) >= 2}
    return tuple(sorted(unique, key=lambda a: (-len(a), a)))


def _name_pattern(alias: str) -> str:
    # The capital letter as written, the rest in any case: "NVIDIA" and "Nvidia", not "apple".
    head, rest = alias[0], alias[1:]
    return re.escape(head) + (f"(?i:{re.escape(rest)})" if rest else "")


def mention_pattern(symbol: str, names: Iterable[str] = ()) -> re.Pattern[str]:
    """One pattern matching any mention of the company; longest alternatives first, so
    "Apple Inc." counts once, not as "Apple Inc." and "Apple"."""
    alternatives = [_name_pattern(a) for a in names]
    # A share class ("Alphabet Inc. Class C") is not Citigroup's symbol.
    alternatives.append(r"(?<!Class )\$?" + re.escape(symbol.upper()))
    return re.compile(r"(?<![\w&$])(?:" + "|".join(alternatives) + r")(?![\w&])")


class RelevanceScorer:
    """Relevance of articles to their tickers, with patterns compiled once per symbol."""

    def __init__(self, universe: TickerUniverse | None = None) -> None:
        self._universe = universe or TickerUniverse.load()
        self._patterns: dict[str, re.Pattern[str]] = {}

    def pattern(self, symbol: str) -> re.Pattern[str]:
        key = symbol.upper()
        found = self._patterns.get(key)
        if found is None:
            ticker = self._universe.get(key)
            found = mention_pattern(key, aliases(ticker) if ticker else ())
            self._patterns[key] = found
        return found

    def mentions(self, symbol: str, headline: str, description: str) -> Mentions:
        pattern = self.pattern(symbol)
        return Mentions(
            headline=len(pattern.findall(headline)),
            description=len(pattern.findall(description)),
        )

    def score(self, tickers: Iterable[str], headline: str, description: str) -> dict[str, float]:
        """Each listed ticker's relevance (rounded to 3 places, as stored)."""
        return {t: round(self.mentions(t, headline, description).relevance, 3) for t in tickers}


@cache
def default_scorer() -> RelevanceScorer:
    """One scorer per process (the exchange list's patterns, compiled as symbols appear)."""
    return RelevanceScorer()

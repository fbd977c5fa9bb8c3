"""Headlines whose sentiment is known, for the emulated news.

They are the validation split of the Twitter Financial News Sentiment data set (MIT licence,
`services/scoring/training/data/sent_valid.csv`), which the model is never trained on: news
written by people, not by our templates, so what the pipeline scores is a fair test of it.

A story of tone T takes a headline labelled T and is rendered for its company: every cashtag
becomes the company's, a headline naming none is prefixed `$SYMBOL - `, links are dropped and
whitespace is folded into single spaces. The label still holds: the rendering changes whom a
headline is about, not what it says about them.

Each story's URL ends with the reference of its headline (`tfns-valid-<row>-<digest>`), and
the URL is stored with the article, so the truth of any stored article can be looked up again
after a restart from the URL alone (`row_of_url`, `labelled_headlines().get(row)`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

Tone = Literal["positive", "negative", "neutral"]

CORPUS_NAME = "tfns-valid"
CORPUS_DESCRIPTION = "Twitter Financial News Sentiment, validation split (zeroshot)"
CORPUS_LICENCE = "MIT"
# services/local/emulators -> services/scoring/training/data: the copy the repository ships.
CORPUS_FILE = (
    Path(__file__).resolve().parents[2] / "scoring" / "training" / "data" / "sent_valid.csv"
)
# The file's labels 0, 1, 2, in the order `services/scoring/evaluation.py` uses.
LABEL_TONES: tuple[Tone, ...] = ("negative", "positive", "neutral")

_LINK = re.compile(r"https?://\S*")
# `$AAPL`, `$BRK.B`, `$ES_F`; not a price (`$4`, `$2.50`) nor `US$`.
_CASHTAG = re.compile(r"(?<![\w$])\$[A-Za-z][A-Za-z0-9]{0,5}(?:[._][A-Za-z]{1,2})?(?!\w)")
_REFERENCE = re.compile(rf"(?:^|/){re.escape(CORPUS_NAME)}-(\d+)-[0-9a-f]+$")


class CorpusMissingError(FileNotFoundError):
    """The labelled headlines the news emulators write from are not where the repository
    keeps them."""


@dataclass(frozen=True, slots=True)
class LabelledHeadline:
    row: int  # the data row of the file, from 0 (the header not counted)
    text: str  # as the file has it
    tone: Tone

    @property
    def reference(self) -> str:
        return f"{CORPUS_NAME}-{self.row}"


class LabelledHeadlines:
    """The headlines by row (the truth of a stored article) and by tone (a story's choice)."""

    def __init__(self, headlines: Sequence[LabelledHeadline]) -> None:
        self._by_row = {h.row: h for h in headlines}
        self._by_tone = {t: tuple(h for h in headlines if h.tone == t) for t in LABEL_TONES}

    def __len__(self) -> int:
        return len(self._by_row)

    def get(self, row: int) -> LabelledHeadline | None:
        return self._by_row.get(row)

    def of_tone(self, tone: Tone) -> tuple[LabelledHeadline, ...]:
        """In file order, so a seeded choice among them is reproducible."""
        return self._by_tone[tone]


def read_labelled_headlines(path: Path = CORPUS_FILE) -> LabelledHeadlines:
    """Every usable row of a `text,label` file. Some texts span lines inside quotes, hence
    the csv module; a row that is only a link has nothing left to render and is skipped."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except FileNotFoundError:
        raise CorpusMissingError(
            f"the labelled headlines of the news emulators are missing: {path.name} is not "
            "in services/scoring/training/data/ (the repository ships it; restore it with "
            f"`git checkout -- services/scoring/training/data/{path.name}`)"
        ) from None
    with handle:
        headlines = [
            LabelledHeadline(row, record["text"], LABEL_TONES[int(record["label"])])
            for row, record in enumerate(csv.DictReader(handle))
            if _clean(record["text"])
        ]
    return LabelledHeadlines(headlines)


@cache
def labelled_headlines() -> LabelledHeadlines:
    """The shipped file, read on first use and kept for the process."""
    return read_labelled_headlines()


def render_title(text: str, symbol: str) -> str:
    """`text` as a headline about `symbol`: its cashtags become `$SYMBOL` (a run of them, one),
    or `$SYMBOL - ` leads when it names none; links dropped, whitespace folded."""
    cashtag = f"${symbol.upper()}"
    cleaned = _clean(text)
    if not _CASHTAG.search(cleaned):
        return f"{cashtag} - {cleaned}"
    replaced = _CASHTAG.sub(lambda _: cashtag, cleaned)
    # "$DELL $HPE - ..." names two companies; about one, it names it once.
    repeated = re.compile(rf"{re.escape(cashtag)}(?:[\s,&/]+{re.escape(cashtag)}(?!\w))+")
    return repeated.sub(cashtag, replaced)


def story_slug(headline: LabelledHeadline, digest: str) -> str:
    """The last segment of a story's URL: its headline's reference, then the story's digest
    (one headline may be drawn by many stories; the digest keeps their URLs apart)."""
    return f"{headline.reference}-{digest}"


def row_of_url(url: str) -> int | None:
    """The corpus row a story URL refers to, or None for a URL without a reference (real
    news, or stories written before the emulators used the corpus)."""
    found = _REFERENCE.search(urlsplit(url).path.rstrip("/"))
    return int(found.group(1)) if found else None


def _clean(text: str) -> str:
    return " ".join(_LINK.sub(" ", text).split())

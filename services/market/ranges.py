"""Named time ranges of the market routes (`1W` ... `1Y`) and the resolutions they allow."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal, get_args

from services.adapters.models import Resolution

PriceResolution = Resolution  # D (daily) or minutes per bar
RangeName = Literal["1W", "1M", "3M", "6M", "1Y"]
RANGES: tuple[RangeName, ...] = get_args(RangeName)
RANGE_DAYS: Mapping[RangeName, int] = {"1W": 7, "1M": 30, "3M": 91, "6M": 182, "1Y": 365}
PRICE_RESOLUTIONS: tuple[PriceResolution, ...] = get_args(PriceResolution)

# The longest range each candle size serves: every pair stays near 2,000 candles (one minute
# over a week is ~2,000 trading minutes), so a response stays far below the Function URL's
# 6 MB limit and the L2 cache item below DynamoDB's 400 KB. A longer range at that size is
# served as this one (and said so), not refused: every documented pair is a valid request.
LONGEST_RANGE: Mapping[PriceResolution, RangeName] = {
    "D": "1Y",
    "60": "1Y",
    "30": "6M",
    "15": "3M",
    "5": "1M",
    "1": "1W",
}


class InvalidRangeError(ValueError):
    """A range name the routes do not know; the message names the allowed values."""

    def __init__(self, parameter: str, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.allowed = allowed


@dataclass(frozen=True, slots=True)
class Window:
    """[start, end] of a range ending now; providers take whole days, hence the dates."""

    name: RangeName
    start: datetime
    end: datetime

    @property
    def start_date(self) -> date:
        return self.start.astimezone(UTC).date()

    @property
    def end_date(self) -> date:
        return self.end.astimezone(UTC).date()


def parse_range(text: str) -> RangeName:
    """`1w`, ` 1W ` -> `1W`; anything else is an `InvalidRangeError` naming the allowed ranges."""
    wanted = text.strip().upper()
    for name in RANGES:
        if name == wanted:
            return name
    raise InvalidRangeError(
        "range", f"range must be one of {', '.join(RANGES)} (got {text!r})", list(RANGES)
    )


def range_window(name: RangeName, now: datetime) -> Window:
    return Window(name, now - timedelta(days=RANGE_DAYS[name]), now)


def allowed_ranges(resolution: PriceResolution) -> list[RangeName]:
    longest = RANGE_DAYS[LONGEST_RANGE[resolution]]
    return [name for name in RANGES if RANGE_DAYS[name] <= longest]


def served_range(name: RangeName, resolution: PriceResolution) -> RangeName:
    """The range actually served: the one asked for, or the longest the candle size allows."""
    return name if name in allowed_ranges(resolution) else LONGEST_RANGE[resolution]


def is_intraday(resolution: PriceResolution) -> bool:
    return resolution != "D"


def history_resolution(name: RangeName) -> Literal["H", "D"]:
    """Hourly buckets for a week (168 points), daily ones for a month and more."""
    return "H" if RANGE_DAYS[name] < RANGE_DAYS["1M"] else "D"

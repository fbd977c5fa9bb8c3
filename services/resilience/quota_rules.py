"""The vocabulary of quotas: UTC periods, a limit, the policy's levels and caps, the shares a
quota is divided into, a refusal and what a view shows. The tracker that applies them is
`services/resilience/quota.py`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from services.clock import iso
from services.resilience.guard import CallRefusedError

PeriodKind = Literal["second", "minute", "hour", "day", "month"]
Counts = Literal["requests", "symbols"]
Level = Literal["ok", "warning", "critical"]

# Longest first: the order in which a provider's quotas are checked and counted.
PERIOD_LENGTH: dict[PeriodKind, int] = {"month": 4, "day": 3, "hour": 2, "minute": 1, "second": 0}


@dataclass(frozen=True, slots=True)
class Period:
    kind: PeriodKind
    key: str  # what the counter's key carries: "2026-11", "2026-11-05", "2026-11-05T14:03"
    start: datetime
    end: datetime  # the next period's start: when the count resets


_UNITS: dict[PeriodKind, tuple[str, timedelta]] = {
    "second": ("%Y-%m-%dT%H:%M:%S", timedelta(seconds=1)),
    "minute": ("%Y-%m-%dT%H:%M", timedelta(minutes=1)),
    "hour": ("%Y-%m-%dT%H", timedelta(hours=1)),
    "day": ("%Y-%m-%d", timedelta(days=1)),
}


def period_of(kind: PeriodKind, moment: datetime) -> Period:
    """The UTC period of `kind` that holds `moment`."""
    at = moment.astimezone(UTC).replace(microsecond=0)
    if kind == "month":
        start = at.replace(day=1, hour=0, minute=0, second=0)
        following = start.replace(year=start.year + 1, month=1) if start.month == 12 else None
        end = following or start.replace(month=start.month + 1)
        return Period(kind, start.strftime("%Y-%m"), start, end)
    pattern, length = _UNITS[kind]
    # Formatting drops what is finer than the period; parsing it back gives the start.
    start = datetime.strptime(at.strftime(pattern), pattern).replace(tzinfo=UTC)
    return Period(kind, start.strftime(pattern), start, start + length)


@dataclass(frozen=True, slots=True)
class QuotaLimit:
    """At most `limit` requests (or distinct symbols) per UTC `period`. `name` tells the
    provider's quotas apart (`requests_per_hour`, `budget_per_month`); by default it is what
    is counted per period."""

    limit: int
    period: PeriodKind
    counts: Counts = "requests"
    name: str = ""

    @property
    def quota_name(self) -> str:
        return self.name or f"{self.counts}_per_{self.period}"


# What the calls that declare no share count in, when a quota has shares.
REST = "rest"


@dataclass(frozen=True, slots=True)
class Caps:
    """How far calls may bring one counter: a priority call (a person waiting) to `priority`,
    any other to `standard`."""

    priority: int
    standard: int

    def of(self, *, priority: bool) -> int:
        return self.priority if priority else self.standard


@dataclass(frozen=True, slots=True)
class ShareSizes:
    """A request quota divided: each named share's size in units, and what is left for the
    calls that declare none (`rest`)."""

    shares: Mapping[str, int]
    rest: int

    @property
    def shared(self) -> int:
        return sum(self.shares.values())


@dataclass(frozen=True, slots=True)
class QuotaPolicy:
    warning_fraction: float = 0.5
    critical_fraction: float = 0.8
    reserve_fraction: float = 0.1
    sync_interval: timedelta = timedelta(seconds=60)
    # The most calls an instance holds uncounted in the table, as a fraction of the limit (at
    # least one call): a burst syncs every so many calls, not only once a minute.
    batch_fraction: float = 0.05
    # How long a period's counter outlives its period (for a person looking back).
    keep_after_period: timedelta = timedelta(days=7)

    def units(self, limit: int, fraction: float) -> int:
        """`fraction` of `limit` in whole calls. Rounded first, so 0.8 * 60 is 48, not the
        47.99... that binary floating point makes of it."""
        return int(round(limit * fraction, 6) // 1)

    def level(self, used: int, limit: int) -> Level:
        if used >= self.units(limit, self.critical_fraction):
            return "critical"
        if used >= self.units(limit, self.warning_fraction):
            return "warning"
        return "ok"

    def cap(self, limit: int, *, priority: bool) -> int:
        """The most calls a caller may bring the total to: all of them with priority, all
        but the reserve without."""
        return limit if priority else limit - self.units(limit, self.reserve_fraction)

    def batch(self, limit: int) -> int:
        return max(1, self.units(limit, self.batch_fraction))

    def near(self, limit: int, caps: Caps | None = None) -> int:
        """From here on every call is its own conditional add."""
        standard = (caps or self.caps(limit)).standard
        return min(self.units(limit, self.critical_fraction), standard)

    def caps(self, limit: int) -> Caps:
        """A quota (or a share of one) that nothing else counts in: the reserve is its last
        part."""
        return Caps(limit, self.cap(limit, priority=False))

    def share_sizes(self, limit: int, fractions: Mapping[str, float]) -> ShareSizes:
        """Each share's units (at least one, so a share that exists can be used) and the
        rest's."""
        shares = {name: max(1, self.units(limit, f)) for name, f in fractions.items() if f > 0}
        return ShareSizes(shares, max(0, limit - sum(shares.values())))

    def rest_caps(self, limit: int, sizes: ShareSizes) -> Caps:
        """The rest of a divided quota. The shares are held back for their own callers as
        the reserve is for priority calls, so the rest loses only what the shares do not
        already hold back: calls without priority stop at `limit - max(shares, reserve)`."""
        reserve = self.units(limit, self.reserve_fraction)
        return Caps(sizes.rest, max(0, limit - max(sizes.shared, reserve)))


class QuotaExhaustedError(CallRefusedError):
    """No quota left for this call in the current period (without priority: none outside
    the reserve). `quota` names the provider's quota that refused (`requests_per_hour`),
    `share` the share of it that did, when the call declared one that is used up."""

    def __init__(
        self,
        service: str,
        *,
        used: int,
        limit: int,
        period: Period,
        now: datetime,
        priority: bool,
        quota: str = "",
        counts: Counts = "requests",
        share: str = "",
    ) -> None:
        what = f"{quota} quota" if quota else "quota"
        if share == REST:
            what = f"part of the {what} that its shares leave"
        elif share:
            what = f"{share} share of the {what}"
        if not priority:
            what += " outside the reserve for priority calls"
        super().__init__(
            service,
            f"{service} {what} is used up: {used} of {limit} {counts} in {period.key}; "
            f"it resets at {iso(period.end)}",
            max(0.0, (period.end - now).total_seconds()),
        )
        self.used = used
        self.limit = limit
        self.period = period
        self.priority = priority
        self.quota = quota
        self.counts = counts
        self.share = share


@dataclass(frozen=True, slots=True)
class Counted:
    """What one quota counted for a call: `units` requests (or new symbols) in `period`;
    `reserved` when they were added to the table already (near the limit)."""

    quota: str  # the quota's id, `{service}:{name}`
    period: str
    units: int
    reserved: bool


@dataclass(frozen=True, slots=True)
class QuotaView:
    service: str
    name: str  # requests_per_hour, symbols_per_month, budget_per_day, ...
    counts: Counts
    per: PeriodKind
    used: int
    limit: int
    period: str
    resets_at: datetime
    level: Level
    pending: int  # this instance's counts not yet in the table (included in `used`)
    synced_at: datetime | None

    @property
    def quota(self) -> str:
        return f"{self.service}:{self.name}"

    @property
    def share(self) -> float:
        return self.used / self.limit if self.limit else 1.0


def tightest_first(views: list[QuotaView]) -> list[QuotaView]:
    """The quota closest to refusing first: the largest share used, then the fewest units
    left (so, unused, the smallest limit leads), then the soonest reset."""
    return sorted(views, key=lambda v: (-v.share, v.limit - v.used, v.resets_at))

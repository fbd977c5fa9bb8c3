"""Requests per caller in a sliding window, counted in memory and shared through the table: the
design and what it trades are in `docs/architecture.md`, "Rate limits"."""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from services.settings import Settings

LOG = logging.getLogger(__name__)

IDENTITY = "identity"
ADDRESS = "ip"
# A request is limited under several keys at once: (kind of limit, key).
LimitKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request was refused, and when the same caller would next be admitted."""

    kind: str
    limit: int
    window_s: int
    retry_after_s: int


@dataclass(slots=True)
class LimiterStats:
    checks: int = 0
    refused: int = 0
    syncs: int = 0
    sync_failures: int = 0


class SharedWindows(Protocol):
    """Where instances leave their counts of a window and read each other's."""

    def publish(
        self, window_start: int, instance: str, counts: Mapping[str, int], expires_at: int
    ) -> None: ...

    def others(self, window_start: int, instance: str) -> dict[str, int]: ...


class RateLimiter:
    def __init__(
        self,
        limits: Mapping[str, int],
        *,
        window_s: int,
        shared: SharedWindows | None = None,
        sync_interval_s: float = 1.0,
        sync_fraction: float = 0.25,
        clock: Callable[[], float] = time.time,
        instance: str | None = None,
    ) -> None:
        if window_s < 1 or any(limit < 1 for limit in limits.values()):
            raise ValueError("the window and every limit must be at least 1")
        self.limits = dict(limits)
        self.window_s = window_s
        # Windows are aligned on wall-clock time so that every instance means the same ones.
        self.instance = instance or uuid.uuid4().hex[:12]
        self.stats = LimiterStats()
        self._shared = shared
        self._sync_interval_s = sync_interval_s
        # Requests of one key since the last exchange that make the next one due at once: a
        # share of the key's own limit, so only callers near their limit cause early exchanges.
        self._early = {
            kind: max(1, math.ceil(limit * sync_fraction)) for kind, limit in limits.items()
        }
        self._clock = clock
        self._lock = threading.Lock()
        self._window = -1  # index of the current window (start = index * window_s)
        self._own: dict[str, int] = {}
        self._own_previous: dict[str, int] = {}
        self._others: dict[str, int] = {}
        self._others_previous: dict[str, int] = {}
        self._unsynced: dict[str, int] = {}
        self._dirty: set[int] = set()  # windows with counts not yet published
        self._next_sync = 0.0  # due at once: a new instance first learns what others counted
        self._syncing = False

    # --- the hot path ------------------------------------------------------------------------

    def check(self, keys: Sequence[LimitKey]) -> Refusal | None:
        """Admit the request (and count it under every key), or say why not. A refused request
        is not counted, so Retry-After holds for a caller who waits it out."""
        now = self._clock()
        if self._shared is not None and now >= self._next_sync:
            self.sync(now)
        with self._lock:
            self.stats.checks += 1
            window = int(now // self.window_s)
            if window > self._window:
                self._advance(window)
                elapsed = now / self.window_s - window
            elif window == self._window:
                elapsed = now / self.window_s - window
            else:
                # A time from before the current window (the wall clock stepped back, or a
                # thread read it before another moved on): judged at the window's start, where
                # the previous window weighs most, rather than undoing the move.
                window, elapsed = self._window, 0.0
            for kind, key in keys:
                limit = self.limits[kind]
                previous = self._own_previous.get(key, 0) + self._others_previous.get(key, 0)
                current = self._own.get(key, 0) + self._others.get(key, 0)
                if previous * (1.0 - elapsed) + current + 1 > limit:
                    self.stats.refused += 1
                    wait = retry_after_s(previous, current, elapsed, limit, self.window_s)
                    return Refusal(kind, limit, self.window_s, wait)
            for kind, key in keys:
                self._own[key] = self._own.get(key, 0) + 1
                if self._shared is not None:
                    unsynced = self._unsynced.get(key, 0) + 1
                    self._unsynced[key] = unsynced
                    if unsynced >= self._early[kind]:
                        self._next_sync = 0.0  # the next request exchanges counts
            self._dirty.add(window)
        return None

    # --- sharing -----------------------------------------------------------------------------

    def sync(self, now: float | None = None) -> None:
        """Publish this instance's unpublished counts and read the others'. One exchange at a
        time; a request that finds one running decides on what is known."""
        if self._shared is None:
            return
        now = self._clock() if now is None else now
        with self._lock:
            if self._syncing:
                return
            window = max(int(now // self.window_s), self._window)
            if window > self._window:
                self._advance(window)
            self._syncing = True
            publish = [
                (w, dict(counts))
                for w, counts in ((window - 1, self._own_previous), (window, self._own))
                if w in self._dirty
            ]
            self._dirty.clear()
            self._unsynced.clear()
            self._next_sync = now + self._sync_interval_s
        start = window * self.window_s
        # Others publish their last counts of the previous window on their first exchange
        # after it ended; until they all have, that window is read again too.
        read_previous = now - start < 2 * self._sync_interval_s
        try:
            for w, counts in publish:
                expires_at = (w + 3) * self.window_s  # gone once no estimate can use it
                self._shared.publish(w * self.window_s, self.instance, counts, expires_at)
            others = self._shared.others(start, self.instance)
            previous = (
                self._shared.others(start - self.window_s, self.instance) if read_previous else None
            )
        except Exception as error:
            LOG.warning("rate-limit counts not exchanged: %s", type(error).__name__)
            with self._lock:
                self._dirty.update(w for w, _ in publish if w >= self._window - 1)
                self._syncing = False
                self.stats.sync_failures += 1
            return
        with self._lock:
            self._syncing = False
            self.stats.syncs += 1
            if self._window == window:
                self._others = others
                if previous is not None:
                    self._others_previous = previous
            elif self._window == window + 1:
                self._others_previous = others

    def _advance(self, window: int) -> None:
        """Move to `window`: the current counts become the previous window's (or, after a
        quiet gap of more than a window, nothing is left to weigh)."""
        if window == self._window + 1:
            self._own_previous, self._others_previous = self._own, self._others
        else:
            self._own_previous, self._others_previous = {}, {}
        self._own, self._others = {}, {}
        self._dirty = {w for w in self._dirty if w >= window - 1}
        self._window = window


def retry_after_s(
    previous: float, current: float, elapsed: float, limit: int, window_s: int
) -> int:
    """Whole seconds until one more request fits under `limit`, if no other is admitted
    meanwhile: later in this window as the previous one's weight fades, else in the next
    (where this window's count becomes the fading one)."""
    wait_s: float
    room = limit - 1 - current
    if room > 0 and previous > 0:
        wait_s = (max(elapsed, 1.0 - room / previous) - elapsed) * window_s
    else:
        # The next window weighs this one's count by (1 - fraction passed).
        needed = 1.0 - (limit - 1) / current if current > 0 else 0.0
        wait_s = (1.0 - elapsed) * window_s + min(1.0, max(0.0, needed)) * window_s
    return max(1, math.ceil(wait_s - 1e-9))


def rate_limiter(
    settings: Settings, shared: SharedWindows | None, clock: Callable[[], float] = time.time
) -> RateLimiter:
    """The API's limiter: per bearer token and per client address, as `settings` say."""
    return RateLimiter(
        {IDENTITY: settings.rate_limit_per_identity, ADDRESS: settings.rate_limit_per_ip},
        window_s=settings.rate_limit_window_s,
        shared=shared,
        sync_interval_s=settings.rate_limit_sync_interval_s,
        sync_fraction=settings.rate_limit_sync_fraction,
        clock=clock,
    )

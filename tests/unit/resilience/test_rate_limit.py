"""The rate limiter: a sliding window per key, refusals with an honest Retry-After, and counts
shared between instances through a store in batches (here the in-memory one, with the
clock in the test's hands)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from services.resilience.rate_limit import (
    ADDRESS,
    IDENTITY,
    RateLimiter,
    Refusal,
    rate_limiter,
    retry_after_s,
)
from services.settings import Settings
from services.store.memory import InMemoryRateWindows

pytestmark = pytest.mark.unit

WINDOW_S = 10
ME = [(IDENTITY, "t:me")]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def limiter(
    clock: Clock,
    limit: int = 5,
    shared: InMemoryRateWindows | None = None,
    **options: float,
) -> RateLimiter:
    return RateLimiter(
        {IDENTITY: limit, ADDRESS: limit * 10},
        window_s=WINDOW_S,
        shared=shared,
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


def admitted(limiter: RateLimiter, n: int, keys: list[tuple[str, str]] = ME) -> int:
    return sum(limiter.check(keys) is None for _ in range(n))


class FailingStore:
    def __init__(self) -> None:
        self.attempts = 0

    def publish(
        self, window_start: int, instance: str, counts: Mapping[str, int], expires_at: int
    ) -> None:
        self.attempts += 1
        raise ConnectionError("the table is unreachable")

    def others(self, window_start: int, instance: str) -> dict[str, int]:
        self.attempts += 1
        raise ConnectionError("the table is unreachable")


# --- one instance ---------------------------------------------------------------------------


def test_the_limit_is_admitted_then_refused_with_the_wait_until_one_more_fits() -> None:
    # Given a limit of 5 per 10 s, at the start of a window
    clock = Clock(1000.0)
    rl = limiter(clock)
    # When 6 requests arrive at once
    results = [rl.check(ME) for _ in range(6)]
    # Then 5 are admitted and the 6th learns when one more would be: the window ends in 10 s,
    # and in the next one these 5 weigh 5 * (1 - f), which leaves room for one at f = 0.2
    assert results[:5] == [None] * 5
    assert results[5] == Refusal(IDENTITY, 5, WINDOW_S, 12)
    clock.now = 1011.9
    assert rl.check(ME) is not None
    clock.now = 1012.0
    assert rl.check(ME) is None


def test_the_previous_window_fades_as_the_current_one_passes() -> None:
    clock = Clock(1000.0)
    rl = limiter(clock)
    assert admitted(rl, 5) == 5
    # Half-way through the next window the 5 count as 2.5: two more fit under 5, not three.
    clock.now = 1015.0
    assert admitted(rl, 5) == 2


def test_refused_requests_are_not_counted_so_retry_after_holds_for_a_caller_who_keeps_asking() -> (
    None
):
    clock = Clock(1000.0)
    rl = limiter(clock)
    admitted(rl, 5)
    first = rl.check(ME)
    for _ in range(100):
        rl.check(ME)
    assert first is not None and rl.check(ME) == first
    clock.now += first.retry_after_s
    assert rl.check(ME) is None


def test_a_quiet_gap_longer_than_a_window_starts_the_count_over() -> None:
    clock = Clock(1000.0)
    rl = limiter(clock)
    admitted(rl, 5)
    clock.now = 1025.0
    assert admitted(rl, 6) == 5


def test_each_request_counts_under_every_key_and_is_refused_under_either() -> None:
    # Given two sessions behind one address: 3 each per session, 4 for the address
    clock = Clock(1000.0)
    rl = RateLimiter({IDENTITY: 3, ADDRESS: 4}, window_s=WINDOW_S, clock=clock)
    alice = [(ADDRESS, "a:10.0.0.1"), (IDENTITY, "t:alice")]
    bob = [(ADDRESS, "a:10.0.0.1"), (IDENTITY, "t:bob")]
    # When alice spends her session's budget, and bob asks twice
    assert admitted(rl, 4, alice) == 3
    refusal = rl.check(alice)
    assert refusal is not None and refusal.kind == IDENTITY
    assert rl.check(bob) is None
    # Then the address's budget (3 + 1 admitted) is spent, for bob too
    refusal = rl.check(bob)
    assert refusal is not None and refusal.kind == ADDRESS
    # And another address's caller is untouched
    assert rl.check([(ADDRESS, "a:10.0.0.2")]) is None


def test_the_wait_is_computed_from_both_windows() -> None:
    # Previous window 8, current 2, limit 5, a quarter through: 8 * 0.75 + 2 + 1 > 5; room for
    # one more once 8 * (1 - f) <= 2, at f = 0.75, i.e. 5 s from now.
    assert retry_after_s(8, 2, 0.25, 5, 10) == 5
    # The current window alone is full: wait for the next, where 5 * (1 - f) + 1 <= 5 at 0.2.
    assert retry_after_s(0, 5, 0.5, 5, 10) == 5 + 2
    # Others pushed the current count past the limit: 10 * (1 - f) <= 4 at f = 0.6.
    assert retry_after_s(0, 10, 0.5, 5, 10) == 5 + 6
    # A limit of one: nothing fits until the window after next.
    assert retry_after_s(0, 1, 0.0, 1, 10) == 20
    # Never less than a second.
    assert retry_after_s(5, 0, 0.99999, 5, 10) == 1


def test_limits_below_one_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter({IDENTITY: 0}, window_s=WINDOW_S)


def test_the_defaults_meet_a_burst_of_50_and_leave_a_polling_dashboard_alone() -> None:
    settings = Settings()
    clock = Clock(1000.0)
    rl = rate_limiter(settings, None, clock)
    me = [(ADDRESS, "a:10.0.0.1"), (IDENTITY, "t:burst")]
    # A burst of 50 within a second meets 429s
    outcomes = []
    for i in range(50):
        clock.now = 1000.0 + i * 0.02
        outcomes.append(rl.check(me))
    assert sum(o is None for o in outcomes) == settings.rate_limit_per_identity
    # A dashboard loading 10 tiles, then polling 4 routes every 2 s for a minute, never does
    poller = [(ADDRESS, "a:10.0.0.2"), (IDENTITY, "t:poller")]
    clock.now = 2000.0
    assert admitted(rl, 10, poller) == 10
    for step in range(30):
        clock.now = 2000.0 + 2 * (step + 1)
        assert admitted(rl, 4, poller) == 4


# --- several instances ----------------------------------------------------------------------


def test_instances_see_each_others_counts_after_an_exchange() -> None:
    # Given two instances sharing one store, with the same clock
    clock = Clock(1005.0)
    store = InMemoryRateWindows()
    a, b = limiter(clock, 10, store), limiter(clock, 10, store)
    # When the caller spends 7 of 10 on instance a (which publishes when asked to exchange)
    assert admitted(a, 7) == 7
    a.sync()
    # Then instance b, on its first request, reads them and admits only the remaining 3
    assert admitted(b, 10) == 3
    # And a learns of b's 3 at its next exchange
    b.sync()
    a.sync()
    assert a.check(ME) is not None


def test_counts_are_exchanged_in_batches_not_per_request() -> None:
    # Given an instance serving 100 callers, far from their limits
    clock = Clock(1005.0)
    store = InMemoryRateWindows()
    rl = limiter(clock, 1000, store, sync_interval_s=1.0)
    # When 1000 requests arrive within one sync interval
    for i in range(1000):
        rl.check([(IDENTITY, f"t:{i % 100}")])
    # Then only the first request exchanged (to learn what others counted): one read
    assert (store.publishes, store.reads) == (0, 1)
    # And once the interval has passed, one write carries all 100 callers' counts
    clock.now += 1.0
    rl.check(ME)
    assert (store.publishes, store.reads) == (1, 2)
    published = store.windows[1000][rl.instance]
    assert len(published) == 100 and sum(published.values()) == 1000


def test_a_caller_nearing_its_limit_makes_the_exchange_come_sooner() -> None:
    # A quarter of a limit of 40 is 10: the eleventh request exchanges, without waiting a second
    clock = Clock(1005.0)
    store = InMemoryRateWindows()
    rl = limiter(clock, 40, store, sync_interval_s=60.0, sync_fraction=0.25)
    admitted(rl, 10)
    assert store.publishes == 0
    rl.check(ME)
    assert store.publishes == 1 and store.windows[1000][rl.instance] == {"t:me": 10}


def test_counts_of_the_previous_window_are_shared_too() -> None:
    # Given instance a serving 4 requests late in a window without exchanging them
    clock = Clock(1009.0)
    store = InMemoryRateWindows()
    a, b = limiter(clock, 5, store), limiter(clock, 5, store)
    a.check([(IDENTITY, "t:warm-up")])  # a's first exchange happens here
    clock.now = 1009.9
    assert admitted(a, 4) == 4
    # When the window ends and a exchanges again (publishing the last window's final counts)
    clock.now = 1010.2
    a.sync()
    # Then b, early in the new window, weighs them: 4 * 0.95 = 3.8, so one more fits, not two
    clock.now = 1010.5
    assert admitted(b, 5) == 1


def test_a_failing_store_leaves_the_limiter_deciding_on_what_it_knows() -> None:
    clock = Clock(1005.0)
    store = FailingStore()
    rl = limiter(clock, 5, store)  # type: ignore[arg-type]
    assert admitted(rl, 10) == 5
    assert rl.stats.sync_failures >= 1
    # It backs off for an interval rather than trying on every request
    attempts = store.attempts
    admitted(rl, 10)
    assert store.attempts == attempts


def test_a_failed_exchange_publishes_its_counts_at_the_next_one() -> None:
    clock = Clock(1005.0)
    store = InMemoryRateWindows()
    rl = limiter(clock, 100, store)
    rl.check(ME)  # first exchange
    admitted(rl, 3)
    broken = FailingStore()
    rl._shared = broken  # type: ignore[attr-defined]
    clock.now += 1.0
    rl.check(ME)
    assert broken.attempts == 1
    rl._shared = store  # type: ignore[attr-defined]
    clock.now += 1.0
    rl.sync()
    assert store.windows[1000][rl.instance] == {"t:me": 5}


def test_a_clock_stepping_back_does_not_forget_the_counts() -> None:
    clock = Clock(1000.0)
    rl = limiter(clock)
    assert admitted(rl, 5) == 5
    clock.now = 1012.0  # the 5 weigh 4 here: one more fits
    assert admitted(rl, 1) == 1
    # The wall clock steps back into the previous window: still judged in the current one
    clock.now = 1005.0
    assert rl.check(ME) is not None


def test_without_a_store_nothing_waits_to_be_exchanged() -> None:
    clock = Clock(1000.0)
    rl = limiter(clock, 10**6)
    for i in range(1000):
        rl.check([(IDENTITY, f"t:{i}")])
    assert rl._unsynced == {}  # type: ignore[attr-defined]

"""The circuit breaker's state machine, on the in-memory store with a clock the tests move.

Several `CircuitBreaker`s on one store stand for several function instances sharing the
table: each has its own cache, the store is the only thing they share.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest

from services.adapters.errors import (
    ProviderAuthError,
    ProviderBadRequestError,
    ProviderError,
    ProviderRateLimitedError,
    ProviderTimeoutError,
)
from services.resilience.breaker import (
    BreakerPolicy,
    CircuitBreaker,
    CircuitOpenError,
    Permit,
    counts_as_failure,
)
from services.store.circuits import CircuitRecord
from services.store.errors import ConflictError
from services.store.memory import InMemoryCircuitStore
from tests.unit.resilience.support import START, Clock, outage, unknown_ticker

pytestmark = pytest.mark.unit

POLICY = BreakerPolicy()  # 5 failures in 60 s, open 60 s, cache 60 s, trial lease 30 s


class CountingStore(InMemoryCircuitStore):
    """Counts the reads and writes that reach the shared store."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.writes = 0

    def get(self, service: str) -> CircuitRecord:
        self.reads += 1
        return super().get(service)

    def save(self, record, *, transition=None):  # type: ignore[no-untyped-def]
        self.writes += 1
        return super().save(record, transition=transition)


def instance(store: InMemoryCircuitStore, clock: Clock, **policy: object) -> CircuitBreaker:
    chosen = BreakerPolicy(**policy) if policy else POLICY  # type: ignore[arg-type]
    return CircuitBreaker("tiingo", store, clock, chosen)


def fail(breaker: CircuitBreaker, times: int = 1, error: Exception | None = None) -> None:
    for _ in range(times):
        permit = breaker.before_call()
        breaker.record_failure(permit, error or outage())


def transitions(store: InMemoryCircuitStore, clock: Clock) -> list[tuple[str, str]]:
    """(from, to) oldest first."""
    return [(t.from_state, t.to_state) for t in reversed(store.transitions(clock()))]


# --- closed -> open ------------------------------------------------------------------------


def test_breaker_opens_on_the_fifth_failure_within_the_window() -> None:
    # Given a closed circuit
    store, clock = InMemoryCircuitStore(), Clock()
    breaker = instance(store, clock)

    # When four calls fail, it still lets calls through and shows the count
    fail(breaker, 4)
    assert breaker.view().state == "closed" and breaker.view().failures == 4
    assert breaker.before_call() == Permit()

    # Then the fifth opens it, until the open timeout has passed
    fail(breaker)
    view = breaker.view()
    assert (view.state, view.failures, view.threshold) == ("open", 5, 5)
    assert view.opened_at == START and view.retry_at == START + timedelta(seconds=60)
    with pytest.raises(CircuitOpenError) as refused:
        breaker.before_call()
    assert refused.value.service == "tiingo"
    assert refused.value.retry_at == START + timedelta(seconds=60)
    assert refused.value.retry_after_s == 60 and refused.value.retry_after_header == "60"
    [opened] = store.transitions(clock())
    assert (opened.from_state, opened.to_state, opened.failures) == ("closed", "open", 5)
    assert opened.reason == "5 failures within 60 s, the last ProviderUnavailableError (500)"


def test_refusal_is_a_provider_error_that_never_counts_itself() -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    breaker = instance(store, clock)
    fail(breaker, 5)
    clock.advance(10)

    with pytest.raises(CircuitOpenError) as refused:
        breaker.before_call()

    assert isinstance(refused.value, ProviderError)
    assert not counts_as_failure(refused.value)
    assert refused.value.retry_after_s == 50


@pytest.mark.parametrize(
    "error",
    [
        unknown_ticker(),
        ProviderBadRequestError("tiingo", "GET /x -> 400", 400),
        KeyError("a bug of ours, not the provider's"),
        ValueError("also ours"),
    ],
    ids=["404", "400", "KeyError", "ValueError"],
)
def test_excluded_errors_never_trip_the_breaker(error: Exception) -> None:
    store, clock = CountingStore(), Clock()
    breaker = instance(store, clock)

    fail(breaker, 20, error)

    assert breaker.view().state == "closed" and breaker.view().failures == 0
    assert store.writes == 0  # nothing to share either


@pytest.mark.parametrize(
    "error",
    [
        ProviderTimeoutError("tiingo", "timed out"),
        outage(),
        ProviderRateLimitedError("tiingo", "GET /x -> 429"),
        ProviderAuthError("tiingo", "GET /x -> 401", 401),
        httpx.ConnectError("refused"),
        TimeoutError("raw"),
        ConnectionResetError("reset"),
    ],
    ids=["timeout", "5xx", "429", "401", "httpx-connect", "raw-timeout", "connection-reset"],
)
def test_failures_of_the_provider_count(error: Exception) -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    breaker = instance(store, clock)

    fail(breaker, 5, error)

    assert breaker.view().state == "open"


def test_the_failure_window_slides_old_failures_out() -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    breaker = instance(store, clock)
    # Given four failures 15 s apart (t = 0, 15, 30, 45)
    for _ in range(4):
        fail(breaker)
        clock.advance(15)
    # When the fifth comes at t = 61, the one of t = 0 is out of the 60 s window
    clock.now = START + timedelta(seconds=61)
    fail(breaker)
    assert breaker.view().state == "closed" and breaker.view().failures == 4
    # And a failure at t = 62 makes five within 60 s (15, 30, 45, 61, 62)
    clock.advance(1)
    fail(breaker)
    assert breaker.view().state == "open"
    # While the counts of a quiet spell drain away: none left a window later
    assert store.get("tiingo").failures[0] == START + timedelta(seconds=15)


def test_failures_counted_in_a_closed_view_fall_out_of_the_window() -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    breaker = instance(store, clock)
    fail(breaker, 3)

    clock.advance(61)

    assert breaker.view(fresh=True).failures == 0
    fail(breaker, 4)
    assert breaker.view().state == "closed"


# --- open -> half-open -> closed / open ----------------------------------------------------


def test_after_the_open_timeout_exactly_one_trial_goes_through() -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    first, second = instance(store, clock), instance(store, clock)
    fail(first, 5)
    second.view(fresh=True)  # the second instance's copy says open too
    clock.advance(60)
    assert first.view().state == "half_open"  # the next call is the trial

    trial = first.before_call()

    assert trial.trial
    with pytest.raises(CircuitOpenError, match="trial call under way"):
        second.before_call()
    with pytest.raises(CircuitOpenError, match="trial call under way"):
        first.before_call()
    view = first.view()
    assert view.state == "half_open" and view.trial_in_progress
    assert transitions(store, clock) == [("closed", "open"), ("open", "half_open")]


def test_a_successful_trial_closes_the_circuit() -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    first, second = instance(store, clock), instance(store, clock)
    fail(first, 5)
    clock.advance(60)

    trial = first.before_call()
    first.record_success(trial)

    assert first.view().state == "closed" and first.view().failures == 0
    assert second.before_call() == Permit()
    assert transitions(store, clock) == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]
    assert store.transitions(clock())[0].reason == "trial call succeeded"


def test_a_failed_trial_reopens_it_for_another_timeout() -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    breaker = instance(store, clock)
    fail(breaker, 5)
    clock.advance(60)

    trial = breaker.before_call()
    clock.advance(2)
    breaker.record_failure(trial, outage())

    view = breaker.view()
    assert view.state == "open"
    assert view.retry_at == START + timedelta(seconds=122)
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    assert transitions(store, clock)[-1] == ("half_open", "open")
    assert store.transitions(clock())[0].reason.startswith("trial call failed")


def test_a_trial_answered_with_an_excluded_error_proves_the_provider_up() -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    breaker = instance(store, clock)
    fail(breaker, 5)
    clock.advance(60)

    trial = breaker.before_call()
    breaker.record_failure(trial, unknown_ticker())

    assert breaker.view().state == "closed"


def test_a_trial_whose_lease_ran_out_is_taken_over_and_its_late_answer_ignored() -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    first, second = instance(store, clock), instance(store, clock)
    fail(first, 5)
    clock.advance(60)
    lost = first.before_call()  # this instance dies mid-trial

    clock.advance(31)  # past the 30 s lease
    taken = second.before_call()
    first.record_success(lost)  # the first one's late answer

    assert taken.trial
    assert first.view(fresh=True).state == "half_open"  # still the second one's trial
    second.record_failure(taken, outage())
    assert second.view().state == "open"


def test_calls_that_began_before_the_circuit_opened_do_not_extend_it() -> None:
    store, clock = CountingStore(), Clock()
    breaker = instance(store, clock)
    in_flight = [breaker.before_call() for _ in range(7)]
    for permit in in_flight[:5]:
        breaker.record_failure(permit, outage())
    writes = store.writes

    for permit in in_flight[5:]:
        breaker.record_failure(permit, outage())

    assert store.writes == writes
    assert breaker.view().retry_at == START + timedelta(seconds=60)
    assert len(store.transitions(clock())) == 1


# --- shared through the store, and the cache ----------------------------------------------


def test_failures_of_several_instances_add_up() -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    instances = [instance(store, clock) for _ in range(5)]

    for breaker in instances:
        fail(breaker)

    assert all(b.view(fresh=True).state == "open" for b in instances)
    assert len(store.transitions(clock())) == 1


def test_two_instances_recording_the_fifth_failure_at_once_open_it_once() -> None:
    class Interleaved(InMemoryCircuitStore):
        """Both instances read the record before either writes: the race, made certain."""

        def __init__(self) -> None:
            super().__init__()
            self.barrier: threading.Barrier | None = None
            self.held: set[int] = set()
            self.conflicts = 0

        def get(self, service: str) -> CircuitRecord:
            record = super().get(service)
            me = threading.get_ident()
            if self.barrier is not None and me not in self.held:
                self.held.add(me)  # only each thread's first read waits for the other's
                self.barrier.wait(timeout=5)
            return record

        def save(self, record, *, transition=None):  # type: ignore[no-untyped-def]
            try:
                return super().save(record, transition=transition)
            except ConflictError:
                self.conflicts += 1
                raise

    store, clock = Interleaved(), Clock()
    first, second = instance(store, clock), instance(store, clock)
    fail(first, 4)
    permits = [first.before_call(), second.before_call()]
    store.barrier = threading.Barrier(2)

    threads = [
        threading.Thread(target=b.record_failure, args=(p, outage()))
        for b, p in zip((first, second), permits, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    store.barrier = None

    assert store.conflicts == 1  # the loser's write was refused, not applied
    assert transitions(store, clock) == [("closed", "open")]
    assert store.get("tiingo").state == "open"


def test_a_closed_instance_reads_the_shared_state_once_per_cache_ttl() -> None:
    store, clock = CountingStore(), Clock()
    breaker = instance(store, clock)

    for _ in range(100):
        breaker.record_success(breaker.before_call())
        clock.advance(0.5)  # 100 calls over 50 s

    assert store.reads == 1 and store.writes == 0
    assert breaker.stats.hits == 99
    clock.advance(10)
    breaker.before_call()
    assert store.reads == 2


def test_an_instance_learns_of_an_opening_elsewhere_within_the_ttl_or_at_its_next_failure() -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    # Open for longer than a copy lives, so it is the copy's age that tells.
    opener, quiet, failing = (
        instance(store, clock, open_timeout=timedelta(seconds=300)) for _ in range(3)
    )
    quiet.before_call()
    failing.before_call()  # both cached "closed"
    fail(opener, 5)

    # The cost of the cache: the quiet instance still lets calls through from its copy...
    clock.advance(30)
    assert quiet.before_call() == Permit()
    # ...while an instance whose call fails reads the shared state and finds it open
    failing.record_failure(failing.before_call(), outage())
    with pytest.raises(CircuitOpenError):
        failing.before_call()
    # and the quiet one once its copy is older than the TTL
    clock.advance(30)
    with pytest.raises(CircuitOpenError):
        quiet.before_call()


def test_an_open_copy_refuses_without_reading_the_store() -> None:
    store, clock = CountingStore(), Clock()
    breaker = instance(store, clock)
    fail(breaker, 5)
    reads = store.reads

    for _ in range(50):
        with pytest.raises(CircuitOpenError):
            breaker.before_call()
        clock.advance(1)

    assert store.reads == reads


def test_a_stale_open_copy_past_its_timeout_finds_the_circuit_closed_elsewhere() -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    first, second = instance(store, clock), instance(store, clock)
    fail(first, 5)
    second.view(fresh=True)
    clock.advance(60)
    first.record_success(first.before_call())  # closed by the first instance

    permit = second.before_call()  # its claim fails on the version: it reads and carries on

    assert permit == Permit()
    assert len(store.transitions(clock())) == 3


def test_the_breaker_fails_open_when_the_store_cannot_be_read() -> None:
    class Down(InMemoryCircuitStore):
        def get(self, service: str) -> CircuitRecord:
            raise ConnectionError("table unreachable")

    breaker = CircuitBreaker("tiingo", Down(), Clock(), POLICY)

    permit = breaker.before_call()
    breaker.record_failure(permit, outage())  # logged, not raised

    assert permit == Permit()
    assert breaker.view().state == "closed"


def test_the_log_lists_every_service_newest_first_and_forgets_after_its_ttl() -> None:
    store, clock = InMemoryCircuitStore(keep_transitions=timedelta(days=7)), Clock()
    tiingo = CircuitBreaker("tiingo", store, clock, POLICY)
    finnhub = CircuitBreaker("finnhub", store, clock, POLICY)
    fail(tiingo, 5)
    clock.advance(1)
    fail(finnhub, 5, outage("finnhub"))

    listed = store.transitions(clock())

    assert [(t.service, t.to_state) for t in listed] == [("finnhub", "open"), ("tiingo", "open")]
    clock.advance(7 * 24 * 3600 - 0.5)
    assert [t.service for t in store.transitions(clock())] == ["finnhub"]
    clock.advance(1)
    assert store.transitions(clock()) == []


def test_settings_shorten_every_duration() -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    breaker = instance(
        store,
        clock,
        failure_threshold=2,
        failure_window=timedelta(seconds=5),
        open_timeout=timedelta(seconds=2),
    )
    fail(breaker, 2)
    assert breaker.view().state == "open"

    clock.advance(2)

    breaker.record_success(breaker.before_call())
    assert breaker.view().state == "closed"


def test_instances_that_saw_another_ones_trial_resume_a_second_after_it_closes() -> None:
    store, clock = InMemoryCircuitStore(), Clock()
    first, second = instance(store, clock), instance(store, clock)
    fail(first, 5)
    clock.advance(60)
    trial = first.before_call()
    with pytest.raises(CircuitOpenError):
        second.before_call()  # its copy now shows the trial under way (30 s lease)
    first.record_success(trial)

    clock.advance(0.5)
    with pytest.raises(CircuitOpenError):
        second.before_call()
    clock.advance(0.5)

    assert second.before_call() == Permit()

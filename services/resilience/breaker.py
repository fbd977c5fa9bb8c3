"""A circuit breaker per external service, its state shared by every instance through the table:
the design is in `docs/architecture.md`, "Circuit breakers"."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import httpx

from services.adapters.errors import ProviderError
from services.backoff import jittered_pause
from services.caching.ttl import CacheStats
from services.clock import Clock, iso
from services.resilience.guard import CallRefusedError
from services.store.circuits import CircuitRecord, CircuitState, CircuitStore, CircuitTransition
from services.store.errors import ConflictError

LOG = logging.getLogger(__name__)
# Conditional writes lost to other instances before a breaker gives up on one decision.
MAX_ATTEMPTS = 8
# A copy that shows another instance's trial under way is about to be wrong (the trial ends
# in seconds): it is trusted this long at most, so the others resume soon after it closes.
HALF_OPEN_RECHECK = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 5
    failure_window: timedelta = timedelta(seconds=60)
    open_timeout: timedelta = timedelta(seconds=60)
    cache_ttl: timedelta = timedelta(seconds=60)
    trial_timeout: timedelta = timedelta(seconds=30)


class CircuitOpenError(CallRefusedError):
    """The service's circuit is open (or its single trial call is under way elsewhere)."""

    def __init__(self, service: str, retry_at: datetime, now: datetime, reason: str) -> None:
        wait = max(0.0, (retry_at - now).total_seconds())
        super().__init__(service, f"circuit open ({reason}); retry at {iso(retry_at)}", wait)
        self.retry_at = retry_at
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to make one call; `trial` when it is the half-open circuit's single trial."""

    trial: bool = False
    version: int = 0  # the record version the trial's claim wrote


@dataclass(frozen=True, slots=True)
class CircuitView:
    """What an operator sees. `state` is `half_open` once an open circuit's timeout has
    passed: the next call is the trial, whether or not an instance has claimed it yet."""

    service: str
    state: CircuitState
    failures: int
    threshold: int
    opened_at: datetime | None
    retry_at: datetime | None
    trial_in_progress: bool
    changed_at: datetime | None


def counts_as_failure(error: BaseException) -> bool:
    if isinstance(error, ProviderError):
        return error.counts_as_failure
    return isinstance(error, TimeoutError | ConnectionError | httpx.TransportError)


def describe(error: BaseException) -> str:
    """The error's kind and status, never its message (it may quote a provider's body)."""
    status = getattr(error, "status", None)
    return f"{type(error).__name__}" + (f" ({status})" if status else "")


class CircuitBreaker:
    def __init__(
        self,
        service: str,
        store: CircuitStore,
        clock: Clock,
        policy: BreakerPolicy | None = None,
    ) -> None:
        self.service = service
        self.policy = policy or BreakerPolicy()
        self.stats = CacheStats()
        self._store = store
        self._clock = clock
        self._cached: CircuitRecord | None = None
        self._cached_at: datetime | None = None
        # One decision at a time in this process; instances are kept apart by the versions.
        self._lock = threading.Lock()

    @property
    def has_copy(self) -> bool:
        return self._cached is not None

    # --- before the call ----------------------------------------------------------------

    def check(self) -> None:
        """Refuse now if this instance's copy says the circuit cannot let a call through,
        without writing anything (the guard asks before spending quota)."""
        with self._lock:
            now = self._clock()
            record = self._copy(now)
            if record is not None:
                self._refuse_if_blocked(record, now)

    def before_call(self) -> Permit:
        """A permit for one call, or `CircuitOpenError`. Claims the trial when one is due."""
        with self._lock:
            now = self._clock()
            record = self._copy(now)
            for _ in range(MAX_ATTEMPTS):
                if record is None or record.state == "closed":
                    return Permit()
                self._refuse_if_blocked(record, now)
                # Due for a trial: open past its timeout, or a trial whose lease ran out.
                claim = replace(
                    record, state="half_open", trial_until=now + self.policy.trial_timeout
                )
                transition = None
                if record.state == "open":
                    claim = replace(claim, changed_at=now)
                    transition = self._transition(record, "half_open", now, "open timeout passed")
                try:
                    saved = self._store.save(claim, transition=transition)
                except ConflictError:
                    # Another instance moved first: decide again on what it wrote.
                    record = self._read(now)
                    continue
                except Exception as error:
                    return self._fail_open(error)
                self._remember(saved, now)
                return Permit(trial=True, version=saved.version)
            raise CircuitOpenError(
                self.service, now + timedelta(seconds=1), now, "too much contention"
            )

    # --- after the call -----------------------------------------------------------------

    def record_success(self, permit: Permit) -> None:
        if not permit.trial:
            return  # nothing to write: a success in the closed state changes no shared state
        with self._lock:
            now = self._clock()
            record = self._read(now)
            if record is None or record.state != "half_open" or record.version != permit.version:
                return  # our lease ran out and another instance took over: its trial decides
            closed = CircuitRecord(self.service, state="closed", changed_at=now)
            self._save(
                replace(closed, version=record.version),
                self._transition(record, "closed", now, "trial call succeeded"),
                now,
            )

    def record_failure(self, permit: Permit, error: BaseException) -> None:
        if not counts_as_failure(error):
            # The provider answered (a 404 is an answer): for a trial, that is the evidence
            # of health it was sent to find.
            self.record_success(permit)
            return
        with self._lock:
            now = self._clock()
            for attempt in range(MAX_ATTEMPTS):
                record = self._read(now)
                if record is None:
                    return
                change = self._after_failure(record, permit, error, now)
                if change is None:
                    return
                try:
                    saved = self._store.save(change[0], transition=change[1])
                except ConflictError:
                    _pause(attempt)
                    continue
                except Exception as failure:
                    LOG.warning(
                        "could not record a %s failure: %s", self.service, describe(failure)
                    )
                    return
                self._remember(saved, now)
                return
            LOG.warning(
                "gave up recording a %s failure after %d attempts", self.service, attempt + 1
            )

    def _after_failure(
        self, record: CircuitRecord, permit: Permit, error: BaseException, now: datetime
    ) -> tuple[CircuitRecord, CircuitTransition | None] | None:
        """The record to write after a counted failure (and its transition), or None."""
        policy = self.policy
        if permit.trial:
            if record.state != "half_open" or record.version != permit.version:
                return None  # no longer our trial
            failures = (*record.failures, now)[-policy.failure_threshold :]
            reopened = self._opened(record, failures, now)
            reason = f"trial call failed: {describe(error)}"
            return reopened, self._transition(record, "open", now, reason, len(failures))
        if record.state != "closed":
            # The call began before the circuit opened (or is not the trial): the state
            # already says what this failure would.
            return None
        recent = tuple(f for f in record.failures if f > now - policy.failure_window)
        failures = (*recent, now)[-policy.failure_threshold :]
        if len(failures) < policy.failure_threshold:
            return replace(record, failures=failures), None
        window_s = round(policy.failure_window.total_seconds())
        reason = f"{len(failures)} failures within {window_s} s, the last {describe(error)}"
        opened = self._opened(record, failures, now)
        return opened, self._transition(record, "open", now, reason, len(failures))

    def _opened(
        self, record: CircuitRecord, failures: tuple[datetime, ...], now: datetime
    ) -> CircuitRecord:
        return replace(
            record,
            state="open",
            failures=failures,
            opened_at=now,
            retry_at=now + self.policy.open_timeout,
            trial_until=None,
            changed_at=now,
        )

    # --- what an operator sees ------------------------------------------------------------

    def view(self, *, fresh: bool = False) -> CircuitView:
        """The circuit as this instance sees it (its copy, or the table's if `fresh`)."""
        with self._lock:
            now = self._clock()
            record = (self._read(now) if fresh else self._copy(now)) or CircuitRecord(self.service)
        return self._view_of(record, now)

    def _view_of(self, record: CircuitRecord, now: datetime) -> CircuitView:
        policy = self.policy
        state = record.state
        if state == "open" and record.retry_at is not None and now >= record.retry_at:
            state = "half_open"
        if record.state == "closed":
            failures = sum(1 for f in record.failures if f > now - policy.failure_window)
        else:
            failures = len(record.failures)
        trial = record.state == "half_open" and bool(
            record.trial_until and now < record.trial_until
        )
        return CircuitView(
            service=self.service,
            state=state,
            failures=failures,
            threshold=policy.failure_threshold,
            opened_at=record.opened_at,
            retry_at=record.retry_at if record.state != "closed" else None,
            trial_in_progress=trial,
            changed_at=record.changed_at,
        )

    # --- the cache ------------------------------------------------------------------------

    def _copy(self, now: datetime) -> CircuitRecord | None:
        """The cached record while it is young enough, else the table's (None: unreadable)."""
        cached, cached_at = self._cached, self._cached_at
        ttl = self.policy.cache_ttl
        if cached is not None and cached.state == "half_open":
            ttl = min(ttl, HALF_OPEN_RECHECK)
        # A clock that went backwards also invalidates the copy.
        fresh = cached_at is not None and cached_at <= now < cached_at + ttl
        if cached is not None and fresh:
            self.stats.hits += 1
            return cached
        self.stats.misses += 1
        return self._read(now)

    def _read(self, now: datetime) -> CircuitRecord | None:
        try:
            record = self._store.get(self.service)
        except Exception as error:
            LOG.warning("could not read the %s circuit: %s", self.service, describe(error))
            return self._cached
        self._remember(record, now)
        return record

    def _remember(self, record: CircuitRecord, now: datetime) -> None:
        self._cached, self._cached_at = record, now

    def _save(
        self, record: CircuitRecord, transition: CircuitTransition | None, now: datetime
    ) -> None:
        try:
            saved = self._store.save(record, transition=transition)
        except ConflictError:
            self._read(now)
            return
        except Exception as error:
            LOG.warning("could not write the %s circuit: %s", self.service, describe(error))
            return
        self._remember(saved, now)

    def _refuse_if_blocked(self, record: CircuitRecord, now: datetime) -> None:
        if record.state == "open" and record.retry_at is not None and now < record.retry_at:
            raise CircuitOpenError(self.service, record.retry_at, now, "provider failing")
        if record.state == "half_open" and record.trial_until and now < record.trial_until:
            raise CircuitOpenError(self.service, record.trial_until, now, "trial call under way")

    def _transition(
        self,
        record: CircuitRecord,
        to_state: CircuitState,
        now: datetime,
        reason: str,
        failures: int | None = None,
    ) -> CircuitTransition:
        return CircuitTransition(
            service=self.service,
            from_state=record.state,
            to_state=to_state,
            at=now,
            reason=reason,
            failures=len(record.failures) if failures is None else failures,
        )

    def _fail_open(self, error: Exception) -> Permit:
        LOG.warning(
            "could not claim the %s trial (%s): letting the call through",
            self.service,
            describe(error),
        )
        return Permit()


def _pause(attempt: int) -> None:
    """A short random pause before trying again: the instances that collided spread out."""
    jittered_pause(attempt, low_s=0.002, high_s=0.02)

"""The one interface every external call goes through.

`guard.call("tiingo", fetch)` lets the guard decide whether the call may happen (circuit
state, quota) and learn how it went. A call counts one unit of quota, a provider request:
one that makes several says so up front (`units=`, e.g. one per ticker), and requests it made
beyond those (further pages) are counted afterwards with `guard.count(service, units)`.
`symbols=` names the tickers it asks for, for a provider that caps distinct symbols.
`share=` names the share of the provider's quotas the call belongs to (`sign_in`, `prices`):
calls anybody can cause are kept within their share, so they never spend what the others need
(`services/resilience/quota.py`).

`AllowAll` is the pass-through used where no protection is wired (unit tests of other use
cases); `ResilientGuard` (`services/resilience/resilient_guard.py`) puts the circuit breakers
and the quota tracker behind the same interface.

A guard that refuses a call raises a `CallRefusedError`. It is a `ProviderError`, so every
caller that already copes with a failing provider (serve a stored copy, record the source's
error, withdraw an unsent link) copes with a refusal the same way, without knowing guards.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from typing import Protocol, TypeVar

from services.adapters.errors import ProviderError

T = TypeVar("T")


class CallGuard(Protocol):
    def call(
        self,
        service: str,
        operation: Callable[[], T],
        *,
        priority: bool = False,
        units: int = 1,
        symbols: Collection[str] = (),
        share: str | None = None,
    ) -> T:
        """Run `operation` for `service` if allowed; `priority` may use reserved quota,
        `units` is how many requests it makes, `symbols` the tickers it asks for, `share` the
        share of the quotas it counts in (None: the rest)."""
        ...

    def count(self, service: str, units: int, *, share: str | None = None) -> None:
        """Count `units` requests made beyond those a call declared; never refused."""
        ...


class AllowAll:
    """Lets every call through and records nothing."""

    def call(
        self,
        service: str,
        operation: Callable[[], T],
        *,
        priority: bool = False,
        units: int = 1,
        symbols: Collection[str] = (),
        share: str | None = None,
    ) -> T:
        return operation()

    def count(self, service: str, units: int, *, share: str | None = None) -> None:
        return None


class CallRefusedError(ProviderError):
    """The guard did not let the call happen: the provider was never asked."""

    # A refusal says nothing new about the provider's health: it must never trip a breaker.
    counts_as_failure = False

    def __init__(self, service: str, message: str, retry_after_s: float) -> None:
        super().__init__(service, message)
        self.service = service
        self.retry_after_s = retry_after_s

    @property
    def retry_after_header(self) -> str:
        """Whole seconds for an HTTP `Retry-After`, never below 1."""
        return str(max(1, math.ceil(self.retry_after_s)))

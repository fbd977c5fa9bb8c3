"""The one interface every external call goes through.

`guard.call("tiingo", fetch)` lets the guard decide whether the call may happen (circuit
state, quota) and learn how it went. `AllowAll` is the pass-through used where no protection
is wired (unit tests of other use cases); `ResilientGuard`
(`services/resilience/resilient_guard.py`) puts the circuit breakers and the quota tracker
behind the same interface.

A guard that refuses a call raises a `CallRefusedError`. It is a `ProviderError`, so every
caller that already copes with a failing provider (serve a stored copy, record the source's
error, withdraw an unsent link) copes with a refusal the same way, without knowing guards.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol, TypeVar

from services.adapters.errors import ProviderError

T = TypeVar("T")


class CallGuard(Protocol):
    def call(self, service: str, operation: Callable[[], T], *, priority: bool = False) -> T:
        """Run `operation` for `service` if allowed; `priority` may use reserved quota."""
        ...


class AllowAll:
    """Lets every call through and records nothing."""

    def call(self, service: str, operation: Callable[[], T], *, priority: bool = False) -> T:
        return operation()


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

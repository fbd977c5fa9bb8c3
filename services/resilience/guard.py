"""The one interface every external call goes through.

`guard.call("tiingo", fetch)` lets the guard decide whether the call may happen (circuit
state, quota) and learn how it went. `AllowAll` is the pass-through used until the circuit
breakers and quota tracker are plugged in behind the same interface.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class CallGuard(Protocol):
    def call(self, service: str, operation: Callable[[], T], *, priority: bool = False) -> T:
        """Run `operation` for `service` if allowed; `priority` may use reserved quota."""
        ...


class AllowAll:
    """Lets every call through and records nothing."""

    def call(self, service: str, operation: Callable[[], T], *, priority: bool = False) -> T:
        return operation()

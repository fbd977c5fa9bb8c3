"""A store of one operator route (`/api/v2/ops/*`): its last answer, or why there is none.

Every section reading an ops route shares this: no operator token on this machine, the token
refused, the route not served (404) by this API yet, or the call failed. A route that appears
later is picked up by the next refresh, with no restart.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import param

from workbench.client import ApiClient, ApiResult
from workbench.stores.ops import STATUSES, _unavailable

ABSENT_CREDENTIAL_NOTE = (
    "n/a: no operator token here (the local stack writes .local/operator-token)"
)
# Reads the operator token when a call needs it (None: this machine has none).
OperatorToken = Callable[[], str | None]


class OperatorRoute(param.Parameterized):
    """Subclasses say which call to make (`fetch`) and read the answer (`read`)."""

    status: str = param.Selector(  # type: ignore[assignment]
        default="waiting", objects=list(STATUSES)
    )
    note = param.String(default="", doc="why there is no figure, or where it comes from")
    body = param.Dict(default={}, doc="the last answer, as the API sent it")
    refreshed = param.Integer(default=0, doc="answers read so far")

    def __init__(
        self, client: ApiClient, operator_token: Callable[[], str | None], **params: Any
    ) -> None:
        super().__init__(**params)
        self.client = client
        # A callable, not the token: the secret never becomes a param.
        self._operator_token = operator_token

    async def fetch(self, token: str) -> ApiResult:
        raise NotImplementedError

    def read(self, body: dict[str, Any]) -> None:
        """Further params from a good answer (the raw body is kept in `body` either way)."""

    async def refresh(self) -> None:
        token = self._operator_token()
        if token is None:
            self.param.update(status="no_token", note=ABSENT_CREDENTIAL_NOTE)
            return
        self.accept(await self.fetch(token))

    def accept(self, result: ApiResult) -> None:
        status, note = _unavailable(result)
        if status is None and not isinstance(result.body, dict):
            status, note = "error", f"{result.request}: the answer is not a JSON object"
        if status is not None:
            problem = result.problem
            # A served route may have nothing yet: its own words say so.
            served = problem is not None and not problem.message.startswith("no route for")
            if status == "missing" and problem is not None and problem.message and served:
                note = f"n/a: {result.request} answered 404: {problem.message}"
            self.param.update(status=status, note=note)
            return
        with param.parameterized.batch_call_watchers(self):
            self.read(result.body)
            self.param.update(
                status="live",
                note=f"{result.request} → {result.status_code} in {result.elapsed_ms:.0f} ms",
                body=dict(result.body),
                refreshed=self.refreshed + 1,
            )

"""Why a section has nothing to show, and the one action that fixes it.

A section whose API answer is empty asks `GET /api/v2/ops/pipeline` why: the history backfill
still running (its days done of the total), or no ingestion cycle yet. The fix it offers is
the one the reason calls for: "Run ingestion now" (`POST /api/v2/ops/ingestion/run` with the
operator token the ops routes use) or "Check again" while the backfill fills the history in.

`DataSectionStore` is the base of the stores of sections showing what the pipeline made
(sentiment, prices and history, analytics): their empty state, its fix, and their default
loaded on the section's first view.
"""

from __future__ import annotations

from typing import Any

import param

from workbench.client import ApiClient
from workbench.stores.operator import ABSENT_CREDENTIAL_NOTE, OperatorToken

INGEST, RECHECK = "ingest", "recheck"
ACTION_LABELS = {INGEST: "Run ingestion now", RECHECK: "Check again"}


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _count(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def empty_reason(nothing: str, pipeline: Any) -> tuple[str, str]:
    """(why, action) from an `/ops/pipeline` answer; `nothing` names what is missing."""
    body = pipeline if isinstance(pipeline, dict) else {}
    backfill = _object(body.get("backfill"))
    if backfill.get("status") in ("pending", "running"):
        done, total = _count(backfill.get("days_done")), _count(backfill.get("days_total"))
        return f"No history yet: backfill running ({done}/{total} days)", RECHECK
    stages = _object(body.get("stages"))
    ingested = _count(stages.get("ingested"))
    if ingested == 0:
        return f"{nothing}: the pipeline has not run", INGEST
    return (
        f"{nothing}: {ingested:,} articles ingested so far, none of them here yet",
        INGEST,
    )


class EmptyState(param.Parameterized):
    reason = param.String(default="", doc="why there is nothing to show; empty: there is")
    action: str = param.Selector(  # type: ignore[assignment]
        default="", objects=["", INGEST, RECHECK], doc="the fix offered; empty: none"
    )
    busy = param.Boolean(default=False)
    outcome = param.String(default="", doc="what the last action did")

    def __init__(
        self, client: ApiClient, operator_token: OperatorToken | None = None, **params: Any
    ) -> None:
        super().__init__(**params)
        self.client = client
        # A callable, not the token: the secret never becomes a param.
        self._operator_token = operator_token or (lambda: None)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, "")

    def clear(self) -> None:
        self.param.update(reason="", action="")

    async def explain(self, nothing: str) -> None:
        """Say why `nothing` ("No sentiment yet") is so, as the pipeline's state tells."""
        token = self._operator_token()
        if token is None:
            self.param.update(
                reason=f"{nothing}: the pipeline may not have run, and this page cannot tell "
                f"({ABSENT_CREDENTIAL_NOTE.removeprefix('n/a: ')})",
                action="",
            )
            return
        result = await self.client.ops_pipeline(token)
        if not result.ok:
            message = result.problem.message if result.problem else str(result.status_code)
            self.param.update(
                reason=f"{nothing}: {result.request} answered {message}", action=INGEST
            )
            return
        reason, action = empty_reason(nothing, result.body)
        self.param.update(reason=reason, action=action)

    async def run_ingestion(self) -> bool:
        """One ingestion cycle now; True when the API ran it."""
        token = self._operator_token()
        if token is None:
            self.outcome = ABSENT_CREDENTIAL_NOTE
            return False
        self.busy = True
        try:
            result = await self.client.ops_run_ingestion(token)
        finally:
            self.busy = False
        body = result.body if isinstance(result.body, dict) else {}
        if result.ok:
            self.outcome = (
                f"{result.request}: {_count(body.get('new'))} new article(s), "
                f"{_count(body.get('published'))} published for analysis"
            )
        else:
            message = result.problem.message if result.problem else str(result.status_code)
            self.outcome = f"{result.request} answered {message}"
        return result.ok


class DataSectionStore(param.Parameterized):
    """A section's store of what the pipeline made: an empty answer is explained (`empty`)
    with the fix it calls for, and the section's default (`show_default`) is loaded on its
    first view."""

    def __init__(
        self, client: ApiClient, operator_token: OperatorToken | None = None, **params: Any
    ) -> None:
        super().__init__(**params)
        self.client = client
        # Why an answer is empty, and its fix (not a param: it is a store of its own).
        self.empty = EmptyState(client, operator_token)
        self._shown = False

    async def first_show(self) -> None:
        """The section's default, once: later views leave the section to its controls."""
        if self._shown:
            return
        self._shown = True
        await self.show_default()

    async def run_ingestion(self) -> None:
        """The empty state's fix: one ingestion cycle, then the section's data again."""
        if self.empty.action == INGEST and not await self.empty.run_ingestion():
            return
        await self.load()

    async def show_default(self) -> None:
        raise NotImplementedError

    async def load(self) -> None:
        raise NotImplementedError

"""The embedded stack's history backfill: one item with its progress.

The local runtime writes it as the backfill goes (`services/local/backfill.py`); the API's
environments, other processes, read it for `GET /api/v2/ops/pipeline`. A finished backfill
is not run again on a persistent table; an interrupted one resumes after its last window.

    BACKFILL                | STATE                   the backfill's progress
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

BackfillStatus = Literal["pending", "running", "done", "failed", "skipped"]

_KEY = {"PK": "BACKFILL", "SK": "STATE"}


@dataclass(frozen=True)
class BackfillState:
    status: BackfillStatus = "pending"
    days_total: int = 0
    days_done: int = 0
    # The history's last day (ISO date), fixed at the first start so a resumed backfill
    # continues the same range; windows run from it backwards.
    through: str = ""
    tickers: list[str] = field(default_factory=list)
    articles_ingested: int = 0
    articles_analyzed: int = 0
    started_at: str = ""
    finished_at: str = ""
    seconds: float = 0.0
    # Why it stopped or was skipped (a quota, a plan, an error), for people.
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> BackfillState:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def but(self, **changes: Any) -> BackfillState:
        return replace(self, **changes)


class BackfillRepository(Protocol):
    def get(self) -> BackfillState | None: ...
    def save(self, state: BackfillState) -> None: ...


class DynamoBackfillRepository:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self) -> BackfillState | None:
        item = self._table.get_item(Key=_KEY, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return BackfillState.from_dict(json.loads(str(item["state"])))

    def save(self, state: BackfillState) -> None:
        # JSON text, as the ingestion runs: no Decimal handling of the counts and seconds.
        self._table.put_item(
            Item={**_KEY, "entity": "backfill", "state": json.dumps(state.as_dict())}
        )


class InMemoryBackfillRepository:
    def __init__(self) -> None:
        self._state: BackfillState | None = None
        self._lock = threading.Lock()
        self.saved: list[BackfillState] = []

    def get(self) -> BackfillState | None:
        with self._lock:
            return self._state

    def save(self, state: BackfillState) -> None:
        with self._lock:
            self._state = state
            self.saved.append(state)

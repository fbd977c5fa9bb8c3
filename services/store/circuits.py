"""Circuit breaker state, shared by every function instance, and its log of state changes.

One item per service (`CIRCUIT#{service} | STATE`) holds the state, the recent failures and a
`version`. Every write is conditional on the version read, so two instances acting on the
same state cannot both win: the loser gets `ConflictError`, reads again and decides on what
the winner wrote. A state change writes its log entry (`CIRCUITLOG | {at}#{service}#{version}`)
in the same transaction, so the log holds exactly the transitions that happened. Log entries
carry `expires_at` and are filtered on read after it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from services.clock import epoch_seconds, iso, parse_iso
from services.store import keys
from services.store.errors import ConflictError
from services.store.items import (
    Item,
    is_condition_failure,
    is_live,
    opt_iso,
    opt_time,
    transact_write,
    without_nones,
)
from services.store.pages import pages

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

CircuitState = Literal["closed", "open", "half_open"]
DEFAULT_KEEP_TRANSITIONS = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class CircuitRecord:
    """One service's circuit as stored. `version` 0 means never written (closed)."""

    service: str
    state: CircuitState = "closed"
    # Closed: the counted failures not yet out of the window. Open or half-open: those that
    # opened it (at most the threshold's worth either way).
    failures: tuple[datetime, ...] = ()
    opened_at: datetime | None = None
    # Open: when a trial call may be made.
    retry_at: datetime | None = None
    # Half-open: the trial's lease; once past, the trial is presumed lost and may be retaken.
    trial_until: datetime | None = None
    changed_at: datetime | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class CircuitTransition:
    service: str
    from_state: CircuitState
    to_state: CircuitState
    at: datetime
    reason: str
    failures: int


class CircuitStore(Protocol):
    def get(self, service: str) -> CircuitRecord:
        """The stored record (strongly consistent), or a closed version-0 record."""
        ...

    def save(
        self, record: CircuitRecord, *, transition: CircuitTransition | None = None
    ) -> CircuitRecord:
        """Store `record` if the stored version is still `record.version`, with the
        transition's log entry in the same write; the stored copy (version + 1), or
        `ConflictError` when another writer got there first."""
        ...

    def transitions(self, now: datetime, *, limit: int = 50) -> list[CircuitTransition]:
        """The latest state changes of every service, newest first."""
        ...


def record_to_item(record: CircuitRecord) -> Item:
    return without_nones(
        {
            **keys.circuit(record.service),
            "entity": "circuit",
            "service": record.service,
            "state": record.state,
            "failures": [iso(f) for f in record.failures],
            "opened_at": opt_iso(record.opened_at),
            "retry_at": opt_iso(record.retry_at),
            "trial_until": opt_iso(record.trial_until),
            "changed_at": opt_iso(record.changed_at),
            "version": record.version,
        }
    )


def record_from_item(service: str, item: dict[str, Any]) -> CircuitRecord:
    return CircuitRecord(
        service=service,
        state=item["state"],
        failures=tuple(parse_iso(str(f)) for f in item.get("failures", [])),
        opened_at=opt_time(item.get("opened_at")),
        retry_at=opt_time(item.get("retry_at")),
        trial_until=opt_time(item.get("trial_until")),
        changed_at=opt_time(item.get("changed_at")),
        version=int(item["version"]),
    )


def transition_to_item(transition: CircuitTransition, version: int, keep: timedelta) -> Item:
    return {
        **keys.circuit_transition(iso(transition.at), transition.service, version),
        "entity": "circuit_transition",
        "service": transition.service,
        "from_state": transition.from_state,
        "to_state": transition.to_state,
        "at": iso(transition.at),
        "reason": transition.reason,
        "failures": transition.failures,
        "expires_at": epoch_seconds(transition.at + keep),
    }


def transition_from_item(item: dict[str, Any]) -> CircuitTransition:
    return CircuitTransition(
        service=str(item["service"]),
        from_state=item["from_state"],
        to_state=item["to_state"],
        at=parse_iso(str(item["at"])),
        reason=str(item["reason"]),
        failures=int(item["failures"]),
    )


def _version_condition(expected: int) -> dict[str, Any]:
    if expected == 0:
        return {"ConditionExpression": "attribute_not_exists(PK)"}
    return {
        "ConditionExpression": "version = :expected",
        "ExpressionAttributeValues": {":expected": expected},
    }


class DynamoCircuitStore:
    def __init__(self, table: Table, *, keep_transitions: timedelta = DEFAULT_KEEP_TRANSITIONS):
        self._table = table
        self._keep = keep_transitions

    def get(self, service: str) -> CircuitRecord:
        # Consistent: a breaker reads only to decide, and deciding on a stale copy would make
        # its conditional write fail anyway.
        response = self._table.get_item(Key=keys.circuit(service), ConsistentRead=True)
        item = response.get("Item")
        return record_from_item(service, item) if item else CircuitRecord(service)

    def save(
        self, record: CircuitRecord, *, transition: CircuitTransition | None = None
    ) -> CircuitRecord:
        stored = _next_version(record)
        condition = _version_condition(record.version)
        try:
            if transition is None:
                self._table.put_item(Item=record_to_item(stored), **condition)
            else:
                transact_write(
                    self._table,
                    [
                        {"Put": {"Item": record_to_item(stored), **condition}},
                        {
                            "Put": {
                                "Item": transition_to_item(transition, stored.version, self._keep),
                                "ConditionExpression": "attribute_not_exists(PK)",
                            }
                        },
                    ],
                )
        except ClientError as error:
            if is_condition_failure(error):
                raise ConflictError(f"circuit {record.service} changed since it was read") from None
            raise
        return stored

    def transitions(self, now: datetime, *, limit: int = 50) -> list[CircuitTransition]:
        found: list[CircuitTransition] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("PK").eq(keys.CIRCUIT_LOG),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if limit < 1:
            return []
        for page in pages(self._table.query, kwargs):
            found += [transition_from_item(i) for i in page["Items"] if is_live(i, now)]
            if len(found) >= limit:
                break
        return found[:limit]


def _next_version(record: CircuitRecord) -> CircuitRecord:
    return replace(record, version=record.version + 1)

"""The circuit and quota stores behind one fixture: the in-memory fakes (unit) and DynamoDB
Local (integration). The same assertions run on both, so the breaker and tracker tests that
use the fakes hold for the table."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.clock import epoch_seconds
from services.store import keys
from services.store.circuits import CircuitRecord, CircuitTransition, DynamoCircuitStore
from services.store.errors import ConflictError
from services.store.memory import InMemoryCircuitStore, InMemoryQuotaStore
from services.store.quotas import DynamoQuotaStore
from tests.contracts.backends import BACKENDS

NOW = datetime(2026, 11, 24, 12, 0, 0, 123000, tzinfo=UTC)
KEEP = timedelta(days=7)


@dataclass
class Stores:
    circuits: Any
    quotas: Any
    table: Any = None


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest) -> Stores:
    if request.param == "memory":
        return Stores(InMemoryCircuitStore(keep_transitions=KEEP), InMemoryQuotaStore())
    table = request.getfixturevalue("fresh_table")
    return Stores(DynamoCircuitStore(table, keep_transitions=KEEP), DynamoQuotaStore(table), table)


def opened(record: CircuitRecord, at: datetime) -> CircuitRecord:
    return replace(
        record,
        state="open",
        failures=tuple(at - timedelta(seconds=s) for s in (40, 30, 20, 10, 0)),
        opened_at=at,
        retry_at=at + timedelta(seconds=60),
        changed_at=at,
    )


def transition(at: datetime, service: str = "tiingo", to: str = "open") -> CircuitTransition:
    return CircuitTransition(service, "closed", to, at, "5 failures within 60 s", 5)  # type: ignore[arg-type]


# --- circuits -------------------------------------------------------------------------------


def test_an_unwritten_circuit_reads_as_closed_version_zero(stores: Stores) -> None:
    assert stores.circuits.get("tiingo") == CircuitRecord("tiingo")


def test_a_saved_circuit_reads_back_whole_with_the_next_version(stores: Stores) -> None:
    record = opened(CircuitRecord("tiingo"), NOW)
    record = replace(record, trial_until=NOW + timedelta(seconds=90))

    saved = stores.circuits.save(record, transition=transition(NOW))

    assert saved == replace(record, version=1)
    assert stores.circuits.get("tiingo") == saved


def test_a_save_on_a_version_read_before_another_write_conflicts(stores: Stores) -> None:
    read = stores.circuits.get("tiingo")
    stores.circuits.save(replace(read, failures=(NOW,)))

    with pytest.raises(ConflictError):
        stores.circuits.save(opened(read, NOW), transition=transition(NOW))

    # Nothing of the losing write landed, its log entry neither.
    assert stores.circuits.get("tiingo").failures == (NOW,)
    assert stores.circuits.transitions(NOW) == []


def test_a_first_write_conflicts_with_another_first_write(stores: Stores) -> None:
    stores.circuits.save(CircuitRecord("tiingo", failures=(NOW,)))

    with pytest.raises(ConflictError):
        stores.circuits.save(CircuitRecord("tiingo", failures=(NOW, NOW)))


def test_transitions_list_every_service_newest_first_until_their_ttl(stores: Stores) -> None:
    tiingo = stores.circuits.save(opened(CircuitRecord("tiingo"), NOW), transition=transition(NOW))
    later = NOW + timedelta(seconds=5)
    stores.circuits.save(
        opened(CircuitRecord("finnhub"), later), transition=transition(later, "finnhub")
    )
    trial = later + timedelta(seconds=55)
    stores.circuits.save(
        replace(tiingo, state="half_open", changed_at=trial),
        transition=CircuitTransition("tiingo", "open", "half_open", trial, "timeout", 5),
    )

    listed = stores.circuits.transitions(trial)

    assert [(t.service, t.from_state, t.to_state) for t in listed] == [
        ("tiingo", "open", "half_open"),
        ("finnhub", "closed", "open"),
        ("tiingo", "closed", "open"),
    ]
    assert listed[-1] == transition(NOW)
    assert [t.service for t in stores.circuits.transitions(trial, limit=1)] == ["tiingo"]
    assert len(stores.circuits.transitions(NOW + KEEP + timedelta(seconds=1))) == 2
    assert stores.circuits.transitions(trial + KEEP) == []


@pytest.mark.integration
def test_a_transition_item_carries_its_ttl(fresh_table: Any) -> None:
    stores = Stores(DynamoCircuitStore(fresh_table, keep_transitions=KEEP), None, fresh_table)
    stores.circuits.save(opened(CircuitRecord("tiingo"), NOW), transition=transition(NOW))

    [item] = stores.table.query(
        KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": keys.CIRCUIT_LOG}
    )["Items"]

    assert int(item["expires_at"]) == epoch_seconds(NOW + KEEP)
    assert item["from_state"] == "closed" and item["to_state"] == "open"


# --- quotas ---------------------------------------------------------------------------------


def test_adds_accumulate_and_return_the_total(stores: Stores) -> None:
    expires = NOW + timedelta(days=8)
    assert stores.quotas.get("tiingo", "2026-11") == 0

    assert stores.quotas.add("tiingo", "2026-11", 3, now=NOW, expires_at=expires) == 3
    assert stores.quotas.add("tiingo", "2026-11", 4, now=NOW, expires_at=expires) == 7
    assert stores.quotas.add("tiingo", "2026-11", -1, now=NOW, expires_at=expires) == 6

    assert stores.quotas.get("tiingo", "2026-11") == 6
    assert stores.quotas.get("tiingo", "2026-12") == 0
    assert stores.quotas.get("finnhub", "2026-11") == 0


def test_a_conditional_add_stays_within_its_cap(stores: Stores) -> None:
    expires = NOW + timedelta(days=2)
    stores.quotas.add("sendgrid", "2026-11-24", 88, now=NOW, expires_at=expires)

    assert (
        stores.quotas.add_within("sendgrid", "2026-11-24", 1, cap=90, now=NOW, expires_at=expires)
        == 89
    )
    assert (
        stores.quotas.add_within("sendgrid", "2026-11-24", 1, cap=90, now=NOW, expires_at=expires)
        == 90
    )
    assert (
        stores.quotas.add_within("sendgrid", "2026-11-24", 1, cap=90, now=NOW, expires_at=expires)
        is None
    )
    assert (
        stores.quotas.add_within("sendgrid", "2026-11-24", 1, cap=100, now=NOW, expires_at=expires)
        == 91
    )

    assert stores.quotas.get("sendgrid", "2026-11-24") == 91
    assert (
        stores.quotas.add_within("sendgrid", "2026-11-25", 1, cap=0, now=NOW, expires_at=expires)
        is None
    )
    assert (
        stores.quotas.add_within("sendgrid", "2026-11-25", 1, cap=1, now=NOW, expires_at=expires)
        == 1
    )


def test_symbols_are_a_set_each_added_once(stores: Stores) -> None:
    expires = NOW + timedelta(days=40)
    quota = "tiingo:symbols_per_month"
    assert stores.quotas.symbols(quota, "2026-11") == frozenset()

    added = stores.quotas.add_symbols(
        quota, "2026-11", ["AAPL", "MSFT"], cap=None, now=NOW, expires_at=expires
    )
    again = stores.quotas.add_symbols(
        quota, "2026-11", {"MSFT", "NVDA"}, cap=None, now=NOW, expires_at=expires
    )

    assert added == {"AAPL", "MSFT"} and again == {"AAPL", "MSFT", "NVDA"}
    assert stores.quotas.symbols(quota, "2026-11") == {"AAPL", "MSFT", "NVDA"}
    assert stores.quotas.symbols(quota, "2026-12") == frozenset()
    # A counter and a set of one quota and period live side by side.
    assert stores.quotas.add(quota, "2026-11", 2, now=NOW, expires_at=expires) == 2
    assert stores.quotas.symbols(quota, "2026-11") == {"AAPL", "MSFT", "NVDA"}


def test_a_conditional_symbol_add_leaves_room_for_all_it_adds(stores: Stores) -> None:
    expires = NOW + timedelta(days=40)
    quota = "tiingo:symbols_per_month"
    stores.quotas.add_symbols(quota, "2026-11", ["A", "B", "C"], cap=5, now=NOW, expires_at=expires)

    def add(symbols: list[str], cap: int) -> frozenset[str] | None:
        result: frozenset[str] | None = stores.quotas.add_symbols(
            quota, "2026-11", symbols, cap=cap, now=NOW, expires_at=expires
        )
        return result

    assert add(["D", "E", "F"], 5) is None  # 3 + 3 could pass 5
    assert add(["C", "D", "E"], 5) is None  # the condition is on the size: C counts too
    assert add(["D", "E"], 5) == {"A", "B", "C", "D", "E"}
    assert add(["F"], 5) is None
    assert add(["F"], 6) == {"A", "B", "C", "D", "E", "F"}
    assert add(["G", "H", "I"], 2) is None  # more than the cap itself
    assert len(stores.quotas.symbols(quota, "2026-11")) == 6


@pytest.mark.integration
def test_a_quota_item_expires_after_its_period_and_keeps_its_first_ttl(fresh_table: Any) -> None:
    stores = Stores(None, DynamoQuotaStore(fresh_table), fresh_table)
    first = NOW + timedelta(days=14)
    stores.quotas.add("tiingo", "2026-11", 1, now=NOW, expires_at=first)
    stores.quotas.add("tiingo", "2026-11", 1, now=NOW, expires_at=first + timedelta(days=1))

    item = stores.table.get_item(Key=keys.quota("tiingo", "2026-11"))["Item"]

    assert int(item["expires_at"]) == epoch_seconds(first)
    assert (item["entity"], item["service"], item["period"], int(item["used"])) == (
        "quota",
        "tiingo",
        "2026-11",
        2,
    )


@pytest.mark.integration
def test_a_symbol_set_is_its_own_item_with_its_ttl(fresh_table: Any) -> None:
    stores = Stores(None, DynamoQuotaStore(fresh_table), fresh_table)
    first = NOW + timedelta(days=40)
    quota = "tiingo:symbols_per_month"
    stores.quotas.add_symbols(quota, "2026-11", ["AAPL"], cap=None, now=NOW, expires_at=first)
    stores.quotas.add_symbols(quota, "2026-11", ["MSFT"], cap=500, now=NOW, expires_at=NOW)

    item = stores.table.get_item(Key=keys.quota_symbols(quota, "2026-11"))["Item"]

    assert keys.quota_symbols(quota, "2026-11") == {
        "PK": "QUOTA#tiingo:symbols_per_month#2026-11",
        "SK": "SYMBOLS",
    }
    assert int(item["expires_at"]) == epoch_seconds(first)
    assert (item["entity"], item["service"], item["period"], item["symbols"]) == (
        "quota_symbols",
        quota,
        "2026-11",
        {"AAPL", "MSFT"},
    )

"""Allowances: exact per-subject counts of an hour, on the in-memory store and on the table
(moto): up to the limit then refused until the hour ends, a refusal counts nothing, several
claims all or none, uses given back, subjects hashed in the keys, items that expire."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.resilience.allowance import (
    Allowance,
    AllowanceExceededError,
    Allowances,
    Claim,
    subject_hash,
)
from services.store.allowances import AllowanceStore, DynamoAllowanceStore
from services.store.memory import InMemoryAllowanceStore
from tests.unit.resilience.support import Clock

pytestmark = pytest.mark.unit

START = datetime(2026, 11, 24, 12, 40, tzinfo=UTC)
PER_RECIPIENT = Allowance("emails_per_recipient", 3, "e-mails to this address")
PER_CLIENT = Allowance("emails_per_client", 5, "e-mails from your address")


@pytest.fixture
def table(moto_table: object) -> object:
    return moto_table


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> AllowanceStore:
    if request.param == "memory":
        return InMemoryAllowanceStore()
    return DynamoAllowanceStore(request.getfixturevalue("table"))  # type: ignore[arg-type]


def uses(allowances: Allowances, claims: list[Claim], n: int) -> list[str]:
    """The outcome of `n` takes: "ok" or the name of the allowance that refused."""
    outcomes = []
    for _ in range(n):
        try:
            allowances.take(claims)
            outcomes.append("ok")
        except AllowanceExceededError as refused:
            outcomes.append(refused.allowance.name)
    return outcomes


def test_uses_up_to_the_limit_then_refused_until_the_hour_ends(store: AllowanceStore) -> None:
    clock = Clock(START)
    allowances = Allowances(store, clock)
    claim = [Claim(PER_RECIPIENT, "reader@example.com")]

    assert uses(allowances, claim, 5) == ["ok"] * 3 + [PER_RECIPIENT.name] * 2
    with pytest.raises(AllowanceExceededError) as refused:
        allowances.take(claim)
    assert refused.value.retry_after_s == 20 * 60
    assert str(refused.value) == "too many e-mails to this address: at most 3 an hour"

    clock.advance(20 * 60)  # the next hour
    assert uses(allowances, claim, 1) == ["ok"]


def test_subjects_are_counted_apart(store: AllowanceStore) -> None:
    allowances = Allowances(store, Clock(START))

    assert uses(allowances, [Claim(PER_RECIPIENT, "a@example.com")], 3) == ["ok"] * 3
    assert uses(allowances, [Claim(PER_RECIPIENT, "b@example.com")], 3) == ["ok"] * 3


def test_several_claims_are_taken_all_or_none(store: AllowanceStore) -> None:
    allowances = Allowances(store, Clock(START))

    def both(recipient: str) -> list[Claim]:
        return [Claim(PER_CLIENT, "203.0.113.7"), Claim(PER_RECIPIENT, recipient)]

    # The recipient refuses the 4th: the client's use is given back, so 2 more fit.
    assert uses(allowances, both("a@example.com"), 4) == ["ok"] * 3 + [PER_RECIPIENT.name]
    assert uses(allowances, both("b@example.com"), 3) == ["ok", "ok", PER_CLIENT.name]


def test_a_use_given_back_can_be_used_again_and_never_goes_below_zero(
    store: AllowanceStore,
) -> None:
    allowances = Allowances(store, Clock(START))
    claim = [Claim(PER_RECIPIENT, "reader@example.com")]
    taken = allowances.take(claim)
    allowances.give_back(taken)
    allowances.give_back(taken)

    assert uses(allowances, claim, 4) == ["ok"] * 3 + [PER_RECIPIENT.name]


def test_keys_hold_a_hash_of_the_subject_and_items_expire_after_their_hour(table) -> None:
    allowances = Allowances(DynamoAllowanceStore(table), Clock(START))
    allowances.take([Claim(PER_RECIPIENT, "reader@example.com"), Claim(PER_CLIENT, "2001:db8::")])

    items = table.scan()["Items"]  # type: ignore[attr-defined]
    assert "reader@example.com" not in json.dumps(items, default=str)
    assert "2001:db8" not in json.dumps(items, default=str)
    hashed = subject_hash("reader@example.com")
    assert {i["PK"] for i in items} == {
        f"ALLOWANCE#emails_per_recipient#{hashed}#2026-11-24T12",
        f"ALLOWANCE#emails_per_client#{subject_hash('2001:db8::')}#2026-11-24T12",
    }
    end_of_hour = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
    expected = int((end_of_hour + timedelta(hours=1)).timestamp())
    assert {int(i["expires_at"]) for i in items} == {expected}
    assert {int(i["used"]) for i in items} == {1}


def test_a_refused_use_adds_nothing_to_the_table(table) -> None:
    store = DynamoAllowanceStore(table)  # type: ignore[arg-type]
    allowances = Allowances(store, Clock(START))
    claim = [Claim(PER_RECIPIENT, "reader@example.com")]

    uses(allowances, claim, 50)

    (item,) = table.scan()["Items"]  # type: ignore[attr-defined]
    assert int(item["used"]) == PER_RECIPIENT.limit

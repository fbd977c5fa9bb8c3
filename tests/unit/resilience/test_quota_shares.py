"""Shares of a quota: the calls that declare a share never pass it, the calls that declare
none keep the rest whatever the shares used, and priority keeps its reserve within each part.
In-memory store, a clock the tests hold still; two trackers on one store stand for two
function instances."""

from __future__ import annotations

import contextlib

import pytest

from services.composition.resilience import quota_limits, quota_policy, quota_shares
from services.resilience.quota import (
    REST,
    QuotaExhaustedError,
    QuotaLimit,
    QuotaPolicy,
    QuotaTracker,
)
from services.settings import Settings
from services.store.memory import InMemoryQuotaStore
from tests.unit.resilience.support import Clock

pytestmark = pytest.mark.unit

SENDGRID = {"sendgrid": QuotaLimit(100, "day")}
SIGN_IN = {"sendgrid": {"sign_in": 0.10}}


def tracker(
    store: InMemoryQuotaStore | None = None,
    *,
    limits: dict[str, QuotaLimit | tuple[QuotaLimit, ...]] | None = None,
    shares: dict[str, dict[str, float]] | None = None,
) -> QuotaTracker:
    return QuotaTracker(
        limits or SENDGRID,  # type: ignore[arg-type]
        store or InMemoryQuotaStore(),
        Clock(),
        QuotaPolicy(),
        SIGN_IN if shares is None else shares,
    )


def allowed(quotas: QuotaTracker, calls: int, **call: object) -> int:
    """How many of `calls` the tracker let through."""
    passed = 0
    for _ in range(calls):
        try:
            quotas.acquire("sendgrid", **call)  # type: ignore[arg-type]
        except QuotaExhaustedError:
            continue
        passed += 1
    return passed


# --- the arithmetic ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "fractions", "shares", "rest", "rest_caps"),
    [
        # SendGrid's free day: sign-ins a tenth; the rest is everything the reserve left.
        (100, {"sign_in": 0.10}, {"sign_in": 10}, 90, (90, 90)),
        # Tiingo's free hour: the API's prices a fifth; ingestion 40 with or without priority.
        (50, {"prices": 0.20}, {"prices": 10}, 40, (40, 40)),
        # A share smaller than the reserve: the rest keeps the part of the reserve left over.
        (100, {"sign_in": 0.05}, {"sign_in": 5}, 95, (95, 90)),
        # A share is at least one unit, even of a tiny quota.
        (5, {"sign_in": 0.10}, {"sign_in": 1}, 4, (4, 4)),
        # A share of 0 is no share: the rest is the whole quota, as without shares.
        (100, {"sign_in": 0.0}, {}, 100, (100, 90)),
        (1_500, {"sign_in": 0.10}, {"sign_in": 150}, 1_350, (1_350, 1_350)),
    ],
)
def test_share_sizes_and_the_rests_caps(
    limit: int,
    fractions: dict[str, float],
    shares: dict[str, int],
    rest: int,
    rest_caps: tuple[int, int],
) -> None:
    policy = QuotaPolicy()
    sizes = policy.share_sizes(limit, fractions)
    caps = policy.rest_caps(limit, sizes)
    assert (dict(sizes.shares), sizes.rest) == (shares, rest)
    assert (caps.priority, caps.standard) == rest_caps


# --- the tracker ---------------------------------------------------------------------------


def test_a_share_is_never_passed_however_much_of_the_rest_is_free() -> None:
    quotas = tracker()

    sent = allowed(quotas, 100, priority=True, share="sign_in")

    assert sent == 10
    assert quotas.view("sendgrid").used == 10  # the provider's count: every call made
    with pytest.raises(QuotaExhaustedError) as refused:
        quotas.acquire("sendgrid", priority=True, share="sign_in")
    assert (refused.value.share, refused.value.quota) == ("sign_in", "requests_per_day")
    assert "sign_in share" in str(refused.value)


def test_the_rest_is_allowed_up_to_its_size_however_many_sign_ins_were_sent() -> None:
    quotas = tracker()
    assert allowed(quotas, 100, priority=True, share="sign_in") == 10

    alerts = allowed(quotas, 200)  # alerts and digests: no priority, no share

    assert alerts == 90
    assert quotas.view("sendgrid").used == 100


def test_without_shares_sign_ins_push_alerts_out_which_the_share_prevents() -> None:
    """What the share is for: with one counter, 90 sign-ins leave alerts nothing."""
    shared = tracker(shares={})
    allowed(shared, 90, priority=True, share="sign_in")
    assert allowed(shared, 10) == 0

    divided = tracker()
    allowed(divided, 90, priority=True, share="sign_in")
    assert allowed(divided, 10) == 10


def test_priority_keeps_the_reserve_of_a_share_and_of_the_rest() -> None:
    limits = {"sendgrid": QuotaLimit(1_000, "day")}
    quotas = tracker(limits=limits, shares={"sendgrid": {"sign_in": 0.05}})  # type: ignore[arg-type]

    assert allowed(quotas, 100, share="sign_in") == 45  # 50, less its reserve
    assert allowed(quotas, 100, priority=True, share="sign_in") == 5
    # The share holds back 50 of the reserve's 100: the rest keeps the other 50 for priority.
    assert allowed(quotas, 1_000) == 900
    assert allowed(quotas, 100, priority=True) == 50


def test_a_share_is_exact_across_instances() -> None:
    store = InMemoryQuotaStore()
    first, second = tracker(store), tracker(store)

    sent = sum(allowed(q, 1, priority=True, share="sign_in") for q in [first, second] * 20)

    assert sent == 10
    assert store.get("sendgrid:requests_per_day@sign_in", first.view("sendgrid").period) == 10


def test_an_unknown_share_counts_in_the_rest() -> None:
    quotas = tracker()

    assert allowed(quotas, 200, share="digest") == 90


def test_a_released_call_is_given_back_to_its_share_and_to_the_whole() -> None:
    quotas = tracker()
    allowed(quotas, 9, priority=True, share="sign_in")
    ticket = quotas.acquire("sendgrid", priority=True, share="sign_in")

    quotas.release(ticket)  # e.g. the circuit refused it after all

    assert quotas.view("sendgrid", write=True).used == 9
    assert allowed(quotas, 5, priority=True, share="sign_in") == 1


def test_requests_counted_afterwards_go_to_their_share_and_the_whole() -> None:
    quotas = tracker()

    quotas.count("sendgrid", 3, share="sign_in")

    assert quotas.view("sendgrid", write=True).used == 3
    parts = {v.name: v.used for v in quotas.share_views("sendgrid", fresh=True)}
    assert parts == {"requests_per_day@sign_in": 3, f"requests_per_day@{REST}": 0}
    assert allowed(quotas, 10, priority=True, share="sign_in") == 7


def test_every_request_quota_of_a_provider_is_divided_and_the_tightest_refuses() -> None:
    limits = {"tiingo": (QuotaLimit(50, "hour"), QuotaLimit(1_000, "day"))}
    quotas = tracker(limits=limits, shares={"tiingo": {"prices": 0.20}})  # type: ignore[arg-type]

    fetched = 0
    for _ in range(30):
        try:
            quotas.acquire("tiingo", priority=True, share="prices")
        except QuotaExhaustedError as refused:
            assert refused.quota == "requests_per_hour" and refused.share == "prices"
            continue
        fetched += 1

    assert fetched == 10  # a fifth of the hour, the tighter of the two
    for _ in range(40):
        quotas.acquire("tiingo")  # ingestion keeps its four fifths
    with pytest.raises(QuotaExhaustedError):
        quotas.acquire("tiingo")


@pytest.mark.parametrize(
    "shares",
    [{"sendgrid": {REST: 0.1}}, {"sendgrid": {"a": 0.6, "b": 0.6}}, {"sendgrid": {"a": -0.1}}],
)
def test_shares_that_cannot_divide_a_quota_are_refused(shares: dict[str, dict[str, float]]) -> None:
    with pytest.raises(ValueError, match="shares"):
        tracker(shares=shares)


# --- wiring ----------------------------------------------------------------------------------


def test_the_settings_divide_sendgrid_for_sign_ins_and_tiingo_for_the_apis_prices(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SENDGRID_SIGN_IN_SHARE", "0.05")
    settings = Settings(sendgrid_plan="free", tiingo_plan="free")
    assert quota_shares(settings) == {"sendgrid": {"sign_in": 0.05}, "tiingo": {"prices": 0.2}}
    quotas = QuotaTracker(
        quota_limits(settings),
        InMemoryQuotaStore(),
        Clock(),
        quota_policy(settings),
        quota_shares(settings),
    )

    assert allowed(quotas, 20, priority=True, share="sign_in") == 5  # of the free plan's 100
    fetched = 0
    for _ in range(20):
        with contextlib.suppress(QuotaExhaustedError):
            quotas.acquire("tiingo", priority=True, share="prices", symbols=("AAPL",))
            fetched += 1
    assert fetched == 10  # of the free plan's 50 an hour

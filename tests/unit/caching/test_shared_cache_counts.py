"""Cache counters across execution environments: each environment publishes its layers'
counters to the table, and `GET /api/v2/ops/caches` answers their sum and one line each."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.api.app import build_app
from services.api.dependencies import ApiDependencies
from services.caching.registry import CacheRegistry
from services.caching.shared import SharedCacheCounts
from services.caching.ttl import TtlCache
from services.composition.api import table_api_dependencies
from services.observability import get_logger
from services.settings import Settings
from services.store.cache_counts import DynamoCacheCounts, PublishedCaches
from services.store.sessions import token_hash
from tests.clock import START, Clock
from tests.unit.resolve import resolve_get

pytestmark = pytest.mark.unit

OPERATOR = "operator-secret"


class MemoryCounts:
    """The table's cache-count items, in memory: one per instance, overwritten."""

    def __init__(self) -> None:
        self.items: dict[str, PublishedCaches] = {}
        self.publishes = 0
        self.fail = False

    def publish(self, counts: PublishedCaches) -> None:
        if self.fail:
            raise ConnectionError("table unreachable")
        self.publishes += 1
        self.items[counts.instance] = counts

    def published_since(self, since: datetime) -> list[PublishedCaches]:
        if self.fail:
            raise ConnectionError("table unreachable")
        return [c for c in self.items.values() if c.published_at >= since]


def environment(
    name: str, store: MemoryCounts, clock: Clock, *, hits: int, misses: int
) -> SharedCacheCounts:
    """An environment whose one layer `accounts` saw `hits` hits and `misses` misses."""
    registry = CacheRegistry()
    cache: TtlCache[int] = registry.register(TtlCache("accounts", 60.0, monotonic=lambda: 0.0))
    for n in range(misses):
        cache.get_or_load(n, lambda: 1)
    for _ in range(hits):
        cache.get_or_load(0, lambda: 1)
    return SharedCacheCounts(registry, store, clock, instance=name, pid=None)


def test_shared_counts_report_the_sum_of_every_environment_and_each_one() -> None:
    # Given two environments on one table, each having published its counters
    store, clock = MemoryCounts(), Clock()
    first = environment("env-a", store, clock, hits=6, misses=2)
    second = environment("env-b", store, clock, hits=1, misses=3)
    second.publish_if_due()
    clock.advance(1)
    # When the first one answers a report
    report = first.report()
    # Then the layers and totals are the sums, and both environments are listed, itself first
    assert report["layers"]["accounts"]["hits"] == 7
    assert report["layers"]["accounts"]["misses"] == 5
    assert report["totals"]["entries"] == 5  # 2 + 3 keys held across the two
    assert report["totals"]["hit_rate"] == round(7 / 12, 4)
    rows = report["environments"]
    assert [(r["instance"], r["answering"]) for r in rows] == [("env-a", True), ("env-b", False)]
    assert rows[1]["hit_rate"] == 0.25 and rows[1]["age_s"] == 1.0
    assert report["shared"] is True and report["answered_by"]["instance"] == "env-a"


def test_one_environment_reports_exactly_what_its_registry_does() -> None:
    store, clock = MemoryCounts(), Clock()
    alone = environment("env-a", store, clock, hits=4, misses=1)
    report = alone.report()
    own = alone._registry.report()
    assert report["layers"] == own["layers"] and report["totals"] == own["totals"]


def test_environments_not_seen_lately_are_left_out() -> None:
    store, clock = MemoryCounts(), Clock()
    gone = environment("gone", store, clock, hits=9, misses=1)
    gone.publish_if_due()
    clock.advance(121)  # past the two minutes an environment counts for
    report = environment("env-a", store, clock, hits=1, misses=1).report()
    assert [r["instance"] for r in report["environments"]] == ["env-a"]
    assert report["totals"]["hits"] == 1


def test_counters_are_published_at_most_once_per_interval() -> None:
    store, clock = MemoryCounts(), Clock()
    env = environment("env-a", store, clock, hits=1, misses=1)
    for _ in range(10):
        env.publish_if_due()
        clock.advance(1)
    assert store.publishes == 2  # at the first request, and five seconds later


def test_an_unreachable_table_leaves_this_environments_own_counts() -> None:
    store, clock = MemoryCounts(), Clock()
    env = environment("env-a", store, clock, hits=3, misses=1)
    store.fail = True
    env.publish_if_due()  # never raises into the request
    report = env.report()
    assert report["shared"] is False and report["totals"]["hits"] == 3
    assert env.publish_failures == 1


def test_the_answering_environment_alone_does_not_read_the_table() -> None:
    store, clock = MemoryCounts(), Clock()
    environment("env-b", store, clock, hits=5, misses=5).publish_if_due()
    store.fail = True
    report = environment("env-a", store, clock, hits=2, misses=1).report(others=False)
    assert report["totals"]["hits"] == 2 and len(report["environments"]) == 1


# --- over the real app and a moto table ------------------------------------------------


@pytest.fixture
def settings() -> Settings:
    return Settings(operator_token_sha256=token_hash(OPERATOR), rate_limit_enabled=False)


@pytest.fixture
def two_environments(moto_table: Any, settings: Settings) -> Iterator[list[ApiDependencies]]:
    clock = Clock()
    yield [table_api_dependencies(settings, clock=clock, table=moto_table) for _ in range(2)]


def get(deps: ApiDependencies, path: str) -> tuple[int, Any]:
    return resolve_get(build_app(deps, get_logger("test", "WARNING")), path, OPERATOR)


def test_ops_caches_adds_up_two_function_instances_on_one_table(
    two_environments: list[ApiDependencies],
) -> None:
    # Given two instances of the API on one table, whose account caches were used apart
    first, second = two_environments
    for deps, hits in ((first, 3), (second, 5)):
        deps.cache_layers()
        for _ in range(hits + 1):
            deps.accounts.get_or_load("user-1", lambda: None)  # type: ignore[arg-type,return-value]
    second.request_metrics.record("GET /health", 200, 1.0)  # publishes when due
    # When the first is asked for the caches
    status, body = get(first, "/api/v2/ops/caches")
    # Then the figures are both instances' together, and each is listed
    assert status == 200, body
    assert (body["layers"]["accounts"]["hits"], body["layers"]["accounts"]["misses"]) == (8, 2)
    assert body["totals"]["entries"] == 2
    listed = {row["instance"]: row for row in body["environments"]}
    assert set(listed) == {first.instance, second.instance}
    assert listed[first.instance]["answering"] and listed[second.instance]["hits"] == 5
    assert body["scope"] == "all" and body["shared"] is True
    # And `scope=environment` answers the first instance's own counters only
    status, own = get(first, "/api/v2/ops/caches?scope=environment")
    assert status == 200 and own["layers"]["accounts"]["hits"] == 3
    assert [row["instance"] for row in own["environments"]] == [first.instance]


def test_ops_caches_refuses_an_unknown_scope(two_environments: list[ApiDependencies]) -> None:
    status, body = get(two_environments[0], "/api/v2/ops/caches?scope=everything")
    assert status == 400 and body["error"]["code"] == "BAD_PARAMETER"


def test_the_store_keeps_one_item_per_instance(moto_table: Any) -> None:
    store = DynamoCacheCounts(moto_table)
    layers = {"accounts": {"ttl_s": 60.0, "hits": 1, "misses": 1}}
    store.publish(PublishedCaches("env-a", 42, START, layers))
    store.publish(PublishedCaches("env-a", 42, START + timedelta(seconds=5), layers))
    store.publish(PublishedCaches("env-b", None, START - timedelta(minutes=5), layers))
    found = store.published_since(START)
    assert [(f.instance, f.pid, f.layers) for f in found] == [("env-a", 42, layers)]

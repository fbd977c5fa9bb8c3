"""Cache layers over HTTP: `GET /api/v2/ops/caches` lists every layer, and the reads it says
the caches saved are the reads they really saved. The same reads are made against two
function instances on one table, one with every cache on and one with every cache off,
while this test counts the table's read calls itself (its own botocore hook on the client
the instances share): what the instance with caches reports as saved must be exactly the
difference."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.local.stack import LocalStack
from services.store.table import dynamodb_table
from tests.e2e.api_support import error_code, function_instance, news_stack, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

LAYERS = {"accounts", "configuration_lists", "configuration_sentiment", "ohlc_daily"}
ROUNDS = 10
OFF = {
    "account_cache_ttl_s": 0.0,
    "configuration_list_cache_ttl_s": 0.0,
    "configuration_sentiment_cache_ttl_s": 0.0,
    "ohlc_memory_ttl_daily_s": 0.0,
    "ohlc_memory_ttl_intraday_s": 0.0,
    # The sentiment route reads the providers' circuits (source_status) through their cache.
    "circuit_cache_ttl_s": 0.0,
}


class ReadCounter:
    """Every read call made through one client, on any thread: the test's own count."""

    OPERATIONS = ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems")

    def __init__(self, client: Any) -> None:
        self.calls = 0
        self._lock = threading.Lock()
        for operation in self.OPERATIONS:
            client.meta.events.register(
                f"before-call.dynamodb.{operation}", self._count, unique_id=f"e2e-{operation}"
            )

    def _count(self, **_: Any) -> None:
        with self._lock:
            self.calls += 1


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[LocalStack]:
    # The Tiingo emulator answers the price route; no schedule, so nothing else reads.
    with news_stack(root, tmp_path_factory.mktemp("state")) as running:
        yield running


def reads_of(instance: httpx.Client, headers: dict[str, str], config_id: str) -> None:
    """A user's dashboard, read ROUNDS times: who am I, the watchlists, one's sentiment, prices."""
    for _ in range(ROUNDS):
        for path in (
            "/api/v2/auth/me",
            "/api/v2/configurations",
            f"/api/v2/configurations/{config_id}/sentiment",
            "/api/v2/tickers/AAPL/ohlc?range=1M",
        ):
            response = instance.get(path, headers=headers)
            assert response.status_code == 200, (path, response.text)


def test_ops_caches_needs_the_operator_token(client: httpx.Client) -> None:
    assert client.get("/api/v2/ops/caches").status_code == 401
    user = client.get("/api/v2/ops/caches", headers=sign_in(client))
    assert user.status_code == 401 and error_code(user) == "UNAUTHORIZED"


def test_every_layer_is_listed_before_its_first_read(
    client: httpx.Client, operator: dict[str, str]
) -> None:
    report = client.get("/api/v2/ops/caches", headers=operator)
    assert report.status_code == 200, report.text
    body = report.json()
    assert LAYERS | {"ohlc_intraday"} <= set(body["layers"])
    for layer in body["layers"].values():
        assert set(layer) >= {"ttl_s", "hits", "misses", "hit_rate", "entries", "reads_saved"}
    assert body["layers"]["configuration_lists"]["ttl_s"] == 60.0
    assert body["layers"]["configuration_sentiment"]["ttl_s"] == 300.0
    assert set(body["totals"]) >= {"hits", "misses", "hit_rate", "entries", "reads_saved"}


def test_reads_saved_are_the_reads_the_caches_really_avoided(
    stack: LocalStack, operator: dict[str, str]
) -> None:
    assert stack.api is not None and stack.settings is not None
    # Given a user with a watchlist, and its prices already in the table's cache (L2): every
    # instance's first in-memory miss then costs the same read, provider or not
    with httpx.Client(base_url=stack.api.url, timeout=60) as main:
        headers = sign_in(main)
        created = main.post(
            "/api/v2/configurations",
            headers=headers,
            json={"name": "Tech", "tickers": ["AAPL", "MSFT", "NVDA"]},
        )
        assert created.status_code == 201, created.text
        config_id = created.json()["config_id"]
        ohlc = main.get("/api/v2/tickers/AAPL/ohlc?range=1M", headers=headers)
        assert ohlc.status_code == 200
    # And two fresh function instances on one table client, which this test watches; the
    # limiter is off in both, so that every read counted is a route's
    table = dynamodb_table(stack.settings)
    counter = ReadCounter(table.meta.client)
    common = {"rate_limit_enabled": False}
    cached = stack.settings.model_copy(update=common)
    uncached = stack.settings.model_copy(update={**common, **OFF})
    with (
        function_instance(cached, table) as with_caches,
        function_instance(uncached, table) as without_caches,
    ):
        # When the same dashboard is read on each
        counter.calls = 0
        reads_of(with_caches, headers, config_id)
        reads_with = counter.calls
        counter.calls = 0
        reads_of(without_caches, headers, config_id)
        reads_without = counter.calls
        # Each instance stands for a deployment of its own here, so each reports its own
        # memory (by default the figures are every instance's on the table added up)
        own = {"scope": "environment"}
        report = with_caches.get("/api/v2/ops/caches", headers=operator, params=own).json()
        report_off = without_caches.get("/api/v2/ops/caches", headers=operator, params=own).json()
    # Then the caches saved reads, and exactly as many as they claim
    assert reads_without > reads_with > 0
    assert report["totals"]["reads_saved"] == reads_without - reads_with
    # Each of the dashboard's layers missed once and hit from then on (every route reads the
    # account; the sentiment route finds its configuration in the user's cached list), each
    # hit saving what that entry's load read
    hits = {
        "accounts": 4 * ROUNDS - 1,
        "configuration_lists": 2 * ROUNDS - 1,
        "configuration_sentiment": ROUNDS - 1,
        "ohlc_daily": ROUNDS - 1,
    }
    for name, expected in hits.items():
        layer = report["layers"][name]
        assert (layer["hits"], layer["misses"], layer["entries"]) == (expected, 1, 1), name
        assert layer["reads_per_load"] >= 1, (name, layer)
        assert layer["reads_saved"] == layer["hits"] * layer["reads_per_load"], (name, layer)
    # And with every layer off, nothing was saved and nothing hit
    assert report_off["totals"]["reads_saved"] == 0 and report_off["totals"]["hits"] == 0, (
        report_off
    )


def test_ops_caches_adds_up_every_instance_on_the_table(
    stack: LocalStack, operator: dict[str, str]
) -> None:
    # Given two more function instances on the stack's table, each with caches of its own
    assert stack.settings is not None and stack.api is not None
    settings = stack.settings.model_copy(update={"rate_limit_enabled": False})
    with function_instance(settings) as first, function_instance(settings) as second:
        headers = sign_in(first)
        # When one user's account is read 3 times on the first and 5 times on the second
        for instance, reads in ((first, 3), (second, 5)):
            for _ in range(reads):
                assert instance.get("/api/v2/auth/me", headers=headers).status_code == 200
        # (an instance answering the report publishes its own counters first)
        theirs = second.get("/api/v2/ops/caches", headers=operator)
        report = first.get("/api/v2/ops/caches", headers=operator)
    # Then the first answers every instance's counters added up, and lists each of them
    assert report.status_code == 200 and theirs.status_code == 200, report.text
    body, other = report.json(), theirs.json()
    listed = {row["instance"]: row for row in body["environments"]}
    second_row = next(row for row in other["environments"] if row["answering"])
    assert listed[second_row["instance"]]["hits"] == second_row["hits"]
    assert listed[body["answered_by"]["instance"]]["answering"]
    assert body["layers"]["accounts"]["hits"] >= 2 + 4  # each missed once, then hit
    assert body["totals"]["hits"] == sum(row["hits"] for row in body["environments"])
    assert body["shared"] is True and body["scope"] == "all"

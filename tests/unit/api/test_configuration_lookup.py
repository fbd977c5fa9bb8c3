"""Two API environments share the table but not their configuration-list caches: a
configuration created through one is found through the other at once, and a warm lookup
still reads no table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.api.configuration_lookup import listed_configuration
from services.caching.ttl import TtlCache
from services.store.models import Configuration

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def configuration(config_id: str) -> Configuration:
    return Configuration(config_id, "u1", config_id, ("AAPL",), NOW, NOW)


class Table:
    """The user's configurations as the table holds them, counting list reads."""

    def __init__(self) -> None:
        self.rows: list[Configuration] = []
        self.reads = 0

    def list(self) -> list[Configuration]:
        self.reads += 1
        return list(self.rows)


def test_a_configuration_created_in_another_environment_is_found_at_once() -> None:
    # Given environment B has cached the user's (empty) list
    table, lists = Table(), TtlCache[list[Configuration]]("configuration_lists", 60.0)
    assert listed_configuration(lists, "u1", "c1", table.list) is None
    # When environment A creates a configuration (A's cache is not B's)
    table.rows.append(configuration("c1"))
    # Then B finds it within its cache's lifetime, reading the table once more
    reads = table.reads
    found = listed_configuration(lists, "u1", "c1", table.list)
    assert found is not None and found.config_id == "c1"
    assert table.reads == reads + 1
    # And the next lookup is answered from B's refreshed copy, with no read
    assert listed_configuration(lists, "u1", "c1", table.list) == found
    assert table.reads == reads + 1


def test_an_absent_configuration_costs_one_read_past_a_fresh_load() -> None:
    table, lists = Table(), TtlCache[list[Configuration]]("configuration_lists", 60.0)
    table.rows.append(configuration("c1"))
    # A list just loaded from the table is not asked again
    assert listed_configuration(lists, "u1", "nope", table.list) is None
    assert table.reads == 1
    # A cached one is asked once before "not found"
    assert listed_configuration(lists, "u1", "nope", table.list) is None
    assert table.reads == 2

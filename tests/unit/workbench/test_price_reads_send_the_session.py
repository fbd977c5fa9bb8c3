"""The workbench reads prices with its session: the API serves cached prices to anyone but
fetches prices it has not cached for a session only, so both price readers (the overlay and
the analytics section) send the bearer when the workbench has one."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest

from tests.unit.workbench.loop import run
from tests.unit.workbench.memory_api import MemoryApi
from workbench.stores.analytics import AnalyticsStore
from workbench.stores.configurations import ConfigurationsStore
from workbench.stores.overlay import OverlayStore
from workbench.stores.schema import SchemaStore
from workbench.stores.session import SessionStore

pytestmark = pytest.mark.unit


@dataclass
class PriceReadsRecorded(MemoryApi):
    price_authorizations: list[str | None] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/ohlc"):
            self.price_authorizations.append(request.headers.get("authorization"))
        return super().handle(request)


def test_the_overlay_reads_prices_with_the_session() -> None:
    api = PriceReadsRecorded()
    client = api.client()
    session = SessionStore(client)
    configurations = ConfigurationsStore(client, session=session)
    schema = SchemaStore(client)
    store = OverlayStore(client, configurations=configurations, schema=schema)
    run(schema.load())
    run(session.start_anonymous())
    run(configurations.create())

    run(store.load())

    assert api.price_authorizations == [f"Bearer {session.bearer}"]


def test_analytics_reads_prices_with_the_session_when_there_is_one() -> None:
    api = PriceReadsRecorded()
    client = api.client()
    session = SessionStore(client)
    store = AnalyticsStore(client, session=session, tickers=["AAPL"])

    run(store.load())  # signed out: cached prices only
    run(session.start_anonymous())
    run(store.load())

    assert api.price_authorizations == [None, f"Bearer {session.bearer}"]

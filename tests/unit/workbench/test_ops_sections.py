"""The operator sections at the param level: quotas, circuits, chaos, caching, observability,
testing, overview and architecture, each read from the fake API (or report files), each
saying why when its source is missing, and each following the system when it changes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import panel as pn
import pytest

from services.costs import SEED_DEV
from tests.unit.workbench.fake_api import FakeApi
from tests.unit.workbench.loop import run
from tests.unit.workbench.markdown import shown
from workbench.client import ApiClient
from workbench.components.architecture import ArchitecturePanel
from workbench.components.caching import CachingPanel
from workbench.components.chaos import ChaosPanel
from workbench.components.circuits import CircuitsPanel
from workbench.components.logs import LogTail
from workbench.components.metrics import MetricCharts
from workbench.components.overview import OverviewPanel
from workbench.components.quotas import QuotasPanel, limits_of, period_unit
from workbench.components.testing import SuiteResultsPanel
from workbench.components.traces import TraceBreakdown
from workbench.stores.chaos import ChaosStore
from workbench.stores.costs import CostStore
from workbench.stores.health import HealthStore
from workbench.stores.latency import LatencyStore
from workbench.stores.live import LiveTiles
from workbench.stores.logs import LogsStore
from workbench.stores.metrics import MetricsStore, figures_of, find_figure, groups_of
from workbench.stores.ops import OpsStore
from workbench.stores.pipeline import PipelineStore
from workbench.stores.quotas import QuotasStore
from workbench.stores.reports import ReportsStore
from workbench.stores.sections import SectionRefresh
from workbench.stores.table import TableStore
from workbench.stores.traces import TracesStore

pytestmark = pytest.mark.unit


def click(button: pn.widgets.Button) -> None:
    button.clicks += 1


def operator(fake: FakeApi) -> str:
    return fake.operator_token


def live_tiles(fake: FakeApi, client: ApiClient) -> LiveTiles:
    return LiveTiles(
        health=HealthStore(client),
        latency=LatencyStore(client),
        ops=OpsStore(client, lambda: operator(fake)),
    )


def test_quota_gauges_show_use_level_and_bands(fake: FakeApi, client: ApiClient) -> None:
    # Given the route missing, Then the panel says why; once served, Then each service's
    # gauge shows its use, its level and the bands; When calls are made, Then it moves.
    store = QuotasStore(client, lambda: operator(fake), warning_fraction=0.4)
    panel = QuotasPanel(store=store)
    panel.__panel__()
    run(store.refresh())
    assert store.status == "missing" and "404" in panel.gauges()
    fake.ops_routes = True
    run(store.refresh())
    gauges = panel.gauges()
    assert 'data-quota="finnhub"' in gauges and "83%" in gauges and ">critical<" in gauges
    # Every limit of every provider: Tiingo's hour, day and symbols, Finnhub's second and
    # minute, SendGrid's day, each provider's tightest first.
    for limit in (
        "tiingo:requests_per_hour",
        "tiingo:requests_per_day",
        "tiingo:symbols_per_month",
        "finnhub:requests_per_second",
        "finnhub:requests_per_minute",
        "sendgrid:requests_per_day",
    ):
        assert f'data-limit="{limit}"' in gauges
    assert "(50/hour)" in gauges and "(1000/day)" in gauges and "(500/month)" in gauges
    assert "(30/second)" in gauges and "(60/minute)" in gauges and "(100/day)" in gauges
    assert "10 requests this hour" in gauges and "30 symbols this month" in gauges
    assert "left:40.0%" in gauges
    assert gauges.index("finnhub:requests_per_minute") < gauges.index("finnhub:requests_per_second")
    assert gauges.index("tiingo:requests_per_hour") < gauges.index("tiingo:symbols_per_month")
    assert "**warning** from 40%" in panel.legend()
    fake.quota_used["tiingo:requests_per_hour"] = 30
    run(store.refresh())
    assert "30 requests this hour" in panel.gauges() and "60%" in panel.gauges()


def test_a_quota_answer_without_limits_is_one_gauge() -> None:
    # An API from before the plans' limits: one quota per provider, no `limits`.
    old = {"used": 10, "limit": 500, "period": "2026-01", "resets_at": None, "level": "ok"}

    assert limits_of(old) == [old]
    assert limits_of({**old, "limits": []}) == [old | {"limits": []}]


def test_period_units() -> None:
    periods = ("2026-11", "2026-11-05", "2026-11-05T14", "2026-11-05T14:03", "2026-11-05T14:03:07")
    assert [period_unit(p) for p in periods] == ["month", "day", "hour", "minute", "second"]


def test_without_a_token_no_ops_route_is_asked(fake: FakeApi, client: ApiClient) -> None:
    fake.ops_routes = True
    store = QuotasStore(client, lambda: None)
    run(store.refresh())
    assert store.status == "no_token" and "operator token" in store.note
    assert fake.requests == []


def test_circuit_cards_follow_the_live_state(fake: FakeApi, client: ApiClient) -> None:
    live = live_tiles(fake, client)
    panel = CircuitsPanel(live=live, open_timeout_s=60, failure_window_s=60)
    panel.__panel__()
    run(live.refresh())
    assert "404" in panel.cards()
    fake.ops_routes = True
    run(live.refresh())
    cards = panel.cards()
    assert 'data-circuit="finnhub" data-state="open"' in cards
    assert "State: OPEN" in cards and "Failures: 5/5" in cards and "half-open in" in cards
    assert 'data-circuit="tiingo" data-state="closed"' in cards and "Failures: 0/5" in cards
    assert "→ 5 failures in 60 s →" in panel.machine() and "→ 60 s →" in panel.machine()
    assert "| finnhub | CLOSED | OPEN | 5 failures | 5 |" in panel.transitions()
    fake.circuit_states["finnhub"] = "half_open"
    run(live.refresh())
    assert "State: HALF-OPEN" in panel.cards() and "trial call" in panel.cards()


def test_chaos_switch_and_ingestion_open_the_circuit(fake: FakeApi, client: ApiClient) -> None:
    # Given the chaos panel, When tiingo_500 is switched on and ingestion runs five times,
    # Then the scenario reads ON and the Tiingo circuit reported to the page is open.
    fake.ops_routes = True
    fake.circuit_states["finnhub"] = "closed"
    live = live_tiles(fake, client)
    store = ChaosStore(client, lambda: operator(fake))
    panel = ChaosPanel(store=store, ops=live.ops)
    circuits = CircuitsPanel(live=live)
    panel.__panel__()
    run(store.refresh())
    run(live.refresh())
    assert sorted(panel.toggles) == [
        "finnhub_500",
        "free_plan_keys",
        "sendgrid_429",
        "slow_upstream",
        "tiingo_500",
    ]
    assert 'data-circuit="tiingo" data-state="closed"' in circuits.cards()
    panel.duration_input.value = 120
    panel.toggles["tiingo_500"].value = True
    assert fake.chaos_enabled["tiingo_500"] and fake.chaos_durations["tiingo_500"] == 120
    assert store.scenarios["tiingo_500"]["enabled"]
    assert "ON, 120 s left" in panel._state_html("tiingo_500")
    assert panel.toggles["tiingo_500"].color == "danger"
    for _ in range(5):
        click(panel.ingest_button)
    assert "ingestion cycles run from this page**: 5" in panel.outcome().lower()
    assert "ProviderUnavailableError" in panel.outcome()
    run(live.refresh())
    assert 'data-circuit="tiingo" data-state="open"' in circuits.cards()
    assert "tiingo: **OPEN** (5/5)" in panel.effects()
    # Switching off goes through the API as well, and the toggle follows the answer.
    panel.toggles["tiingo_500"].value = False
    assert not fake.chaos_enabled["tiingo_500"]
    assert panel.toggles["tiingo_500"].color == "default"


def test_chaos_without_a_token_says_so(client: ApiClient) -> None:
    store = ChaosStore(client, lambda: None)
    panel = ChaosPanel(store=store, ops=OpsStore(client, lambda: None))
    run(store.run_ingestion())
    assert "operator token" in panel.outcome()


def test_caching_panel_lists_layers_and_totals(fake: FakeApi, client: ApiClient) -> None:
    ops = OpsStore(client, lambda: operator(fake))
    panel = CachingPanel(ops=ops)
    panel.__panel__()
    run(ops.refresh())
    assert "404" in panel.layers() and ">n/a<" in panel.totals()
    fake.ops_routes = True
    fake.cache_hits, fake.cache_misses = 3, 1
    run(ops.refresh())
    assert "| sentiment | 5 min | - | 3 | 1 | 75% |" in panel.layers()
    assert ">75%<" in panel.totals() and ">3<" in panel.totals()
    fake.cache_hits = 9
    run(ops.refresh())
    assert ">90%<" in panel.totals()


def test_caching_reduction_is_measured_reads_saved(client: ApiClient) -> None:
    ops = OpsStore(client, lambda: None)
    panel = CachingPanel(ops=ops)
    ops.param.update(caches_status="live", cache_totals={"reads_saved": 8, "load_reads": 2})
    assert "**80%** (8 reads saved of 10" in panel.reduction()


def test_log_tail_filters_through_the_route(fake: FakeApi, client: ApiClient) -> None:
    fake.ops_routes = True
    fake.logs = [
        {"level": "INFO", "service": "ingestion", "correlation_id": "c1", "message": "cycle",
         "timestamp": "t1", "new": 3},
        {"level": "ERROR", "service": "dashboard", "correlation_id": "c2", "message": "boom",
         "timestamp": "t2"},
    ]  # fmt: skip
    store = LogsStore(client, lambda: operator(fake))
    tail = LogTail(store=store)
    tail.__panel__()
    run(store.refresh())
    table = tail.table()
    assert "cycle" in table and "boom" in table and "new=3" in table
    assert set(tail.service_select.options.values()) == {"", "ingestion", "dashboard"}
    tail.level_select.value = "ERROR"
    assert "boom" in tail.table() and "cycle" not in tail.table()
    tail.level_select.value = ""
    tail.correlation_input.value = "c1"
    assert "cycle" in tail.table() and "boom" not in tail.table()
    # Paused, the periodic refresh asks nothing.
    tail.live_toggle.value = False
    asked = len(fake.requests)
    run(store.follow())
    assert len(fake.requests) == asked


def test_trace_breakdown_draws_the_chosen_request(fake: FakeApi, client: ApiClient) -> None:
    fake.ops_routes = True
    fake.traces = [
        {
            "correlation_id": "req-1", "method": "GET", "path": "/api/v2/configurations",
            "status": 200, "duration_ms": 9.5, "started_at": "2026-01-01T00:00:00Z",
            "dynamodb_calls": 1, "dynamodb_ms": 2.0,
            "spans": [
                {"name": "DynamoDB Query", "kind": "dynamodb", "start_ms": 0, "duration_ms": 2.0,
                 "detail": {"phase": "before the resolver (session check)"}},
                {"name": "rate limit", "kind": "middleware", "start_ms": 2.5, "duration_ms": 0.1},
                {"name": "route handler", "kind": "handler", "start_ms": 3.0, "duration_ms": 6.0},
            ],
        }
    ]  # fmt: skip
    store = TracesStore(client, lambda: operator(fake))
    panel = TraceBreakdown(store=store)
    panel.__panel__()
    assert isinstance(panel.chart(), pn.pane.Markdown)
    run(store.refresh())
    assert list(panel.request_select.options.values()) == ["req-1"]
    click(panel.show_button)
    assert isinstance(panel.chart(), pn.pane.HoloViews)
    summary = shown(panel.summary())
    assert "| route handler | handler | 3.0 | 6.0 |" in summary and "1 DynamoDB calls" in summary
    run(store.load("gone"))
    assert "no trace of that correlation ID" in panel.chart().object


def test_metric_charts_wait_for_the_route_then_draw_it(fake: FakeApi, client: ApiClient) -> None:
    fake.ops_routes = True
    store = MetricsStore(client, lambda: operator(fake))
    charts = MetricCharts(store=store)
    charts.__panel__()
    run(store.refresh())
    assert store.status == "missing"
    assert "Metrics not available yet" in charts.message()
    assert "the metrics function has not run" in charts.message()
    assert charts.charts.objects == []
    # "Compute now" asks the metrics function for a snapshot, and the charts follow: one
    # group at a time, latencies first, any other group on choosing it.
    click(charts.run_button)
    assert charts.message() == ""
    assert charts.group_select.value == "api.latency_ms"
    assert len(charts.group_select.options) >= 5
    # (The fake's snapshot has two minutes: the trend is drawn before the group's bars.)
    kinds = [type(chart.object).__name__ for chart in charts.charts.objects]
    assert kinds == ["Overlay", "Bars"]
    assert charts.charts.objects[-1].object.opts["title"] == "api.latency ms"
    charts.group_select.value = "caches.hit_rate by layer"
    assert charts.charts.objects[-1].object.opts["title"] == "caches.hit rate by layer"
    assert "window_s" not in charts.single() and "| api.requests |" in shown(charts.single())
    assert store.figure("p99") == 7.5
    assert "sentiment_distribution" in store.groups and "window_s" not in str(
        store.groups["sentiment_distribution"]
    )
    assert store.groups["caches.hit_rate by layer"] == {"accounts": 0.75}
    assert "computed at 2026-01-01T00:00:00Z" in shown(charts.heading())


def test_metric_readers() -> None:
    body = {"a": {"b": 1, "c": {"p99": 2.5, "p50": 1}}, "flag": True, "n": 3}
    assert figures_of(body) == {"a.b": 1.0, "a.c.p99": 2.5, "a.c.p50": 1.0, "n": 3.0}
    assert groups_of(body) == {"a.c": {"p99": 2.5, "p50": 1.0}}
    assert find_figure(figures_of(body), "p99") == 2.5 and find_figure({}, "p99") is None


JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest"
timestamp="2026-01-01T00:00:00"><testcase classname="tests.unit.test_a" name="t1" time="0.5"/>
<testcase classname="tests.unit.test_a" name="t2" time="0.25"><failure message="x"/></testcase>
<testcase classname="tests.e2e.test_b" name="t3" time="1"/>
<testcase classname="tests.e2e.test_b" name="t4" time="0"><skipped/></testcase>
</testsuite></testsuites>"""


def test_testing_panel_reads_the_latest_reports(tmp_path: Path) -> None:
    store = ReportsStore(tmp_path)
    panel = SuiteResultsPanel(store=store)
    panel.__panel__()
    run(store.refresh())
    assert "No test report" in panel.suites() and "No benchmark report" in panel.benchmarks()
    (tmp_path / "junit-all.xml").write_text(JUNIT)
    (tmp_path / "benchmarks.json").write_text(
        json.dumps(
            {
                "generated_at": "2026-01-02T00:00:00Z",
                "quick": True,
                "machine": {"cpus": 2, "python": "3.11"},
                "benchmarks": {
                    "api": {
                        "measurements": {
                            "p99": {"value": 12, "unit": "ms", "budget": 100, "within_budget": True}
                        }
                    }
                },
            }
        )
    )
    run(store.refresh())
    suites = shown(panel.suites())
    assert "| **unit** |" in suites and "| 2 | 1 | 1 | 0 | 0 | 0.75 |" in suites
    assert "| **e2e** |" in suites and "| 2 | 1 | 0 | 0 | 1 |" in suites
    assert "tests.unit.test_a::t2" in suites
    assert "| api | p99 | 12 | ms | 100 | yes |" in panel.benchmarks()
    assert 'data-suite="unit"' in panel.pyramid() and "1/2 passing" in panel.pyramid()
    assert store.tests_passed == 2


def test_overview_numbers_come_from_their_sources(
    fake: FakeApi, client: ApiClient, tmp_path: Path
) -> None:
    fake.ops_routes = True
    ops = OpsStore(client, lambda: operator(fake))
    metrics = MetricsStore(client, lambda: operator(fake))
    latency = LatencyStore(client)
    reports = ReportsStore(tmp_path)
    costs = CostStore()
    panel = OverviewPanel(ops=ops, metrics=metrics, latency=latency, reports=reports, costs=costs)
    panel.__panel__()
    run(reports.refresh())
    assert ">n/a<" in panel.tests_tile() and ">n/a<" in panel.p99_tile()
    assert ">n/a<" in panel.reduction_tile() and ">n/a<" in panel.cost_tile()
    run(costs.refresh())
    assert costs.monthly_usd is not None and f">${costs.monthly_usd:,.2f}<" in panel.cost_tile()
    assumed = SEED_DEV
    assert f"{assumed.users} users, {assumed.tickers} tickers" in panel.cost_tile()
    (tmp_path / "junit-unit.xml").write_text(JUNIT)
    run(reports.refresh())
    assert ">2<" in panel.tests_tile()
    run(ops.refresh())
    run(metrics.refresh())
    latency.refresh()
    # The metrics route missing: the p99 is the workbench's own measurement, and says so.
    assert "measured by this workbench" in panel.p99_tile()
    fake.metrics_route = True
    run(metrics.refresh())
    assert ">7.5<" in panel.p99_tile() and "server side" in panel.p99_tile()
    ops.cache_totals = {"reads_saved": 3, "load_reads": 1}
    assert ">75%<" in panel.reduction_tile()


def test_architecture_shows_live_stage_and_table_counts(fake: FakeApi, client: ApiClient) -> None:
    fake.ops_routes = True
    pipeline = PipelineStore(client, lambda: operator(fake))
    table = TableStore(client, lambda: operator(fake))
    metrics = MetricsStore(client, lambda: operator(fake))
    panel = ArchitecturePanel(pipeline=pipeline, table=table, metrics=metrics)
    panel.__panel__()
    run(pipeline.refresh())
    run(table.refresh())
    run(metrics.refresh())
    flow = panel.flow()
    assert 'data-count="pending">2<' in flow and 'data-count="analyzed">5<' in flow
    assert "e-mails (metrics n/a)" in flow
    items = shown(panel.items())
    assert "| article | 7 |" in items and "pending: 2, analyzed: 5" in items
    # An ingestion cycle moves the counts.
    run(client.ops_run_ingestion(operator(fake)))
    run(pipeline.refresh())
    assert 'data-count="pending">5<' in panel.flow()
    fake.metrics_route = True
    run(metrics.refresh())
    assert 'data-count="e-mails queued">2<' in panel.flow()


def test_section_refresh_reads_only_the_section_in_view() -> None:
    called: list[str] = []

    def recorder(name: str):  # type: ignore[no-untyped-def]
        async def refresh() -> None:
            called.append(name)
            await asyncio.sleep(0)

        return refresh

    sections = SectionRefresh({"A": [recorder("a")], "B": [recorder("b1"), recorder("b2")]})
    sections.active = "B"
    run(sections.refresh())
    sections.active = "C"
    run(sections.refresh())
    assert called == ["b1", "b2"] and sections.refreshes == 2

    async def overlapping() -> None:
        sections.active = "A"
        await asyncio.gather(sections.refresh(), sections.refresh())

    run(overlapping())
    assert sections.skipped == 1

    # A section coming into view while the one it replaced is still refreshing reads at once.
    async def switched_mid_refresh() -> None:
        sections.active = "A"
        first = asyncio.ensure_future(sections.refresh())
        await asyncio.sleep(0)
        sections.active = "B"
        await asyncio.gather(first, sections.refresh())

    called.clear()
    run(switched_mid_refresh())
    assert sorted(called) == ["a", "b1", "b2"] and sections.skipped == 1


def test_caching_panel_shows_each_environment(fake: FakeApi, client: ApiClient) -> None:
    # Given an API of two execution environments, one with a hostile-looking id
    fake.ops_routes = True
    fake.cache_hits, fake.cache_misses = 5, 5
    fake.cache_environments = [
        {"instance": "aaa111", "pid": 41, "answering": True, "hits": 4, "misses": 1,
         "hit_rate": 0.8, "entries": 2, "reads_saved": 7, "age_s": 0.0},
        {"instance": "b|*x*", "pid": None, "answering": False, "hits": 1, "misses": 4,
         "hit_rate": 0.2, "entries": 0, "reads_saved": 0, "age_s": 3.5},
    ]  # fmt: skip
    ops = OpsStore(client, lambda: operator(fake))
    panel = CachingPanel(ops=ops)
    panel.__panel__()
    # When the page refreshes
    run(ops.refresh())
    # Then the totals say they span both, and each environment has its row, text escaped
    table = panel.environments()
    assert "| `aaa111` (answered) | 41 | 4 | 1 | 80% | 2 | 7 | 0 s ago |" in table
    assert r"| `b\|*x*` | - | 1 | 4 | 20% | 0 | 0 | 3.5 s ago |" in table
    assert "across 2 environments" in ops.caches_note
    assert "every API environment" in panel.totals()


def test_caching_panel_without_environments_shows_no_breakdown(
    fake: FakeApi, client: ApiClient
) -> None:
    fake.ops_routes = True
    ops = OpsStore(client, lambda: operator(fake))
    panel = CachingPanel(ops=ops)
    run(ops.refresh())
    assert panel.environments() == "" and "environment" not in ops.caches_note


def test_logs_and_traces_say_which_environment_answered(fake: FakeApi, client: ApiClient) -> None:
    fake.ops_routes = True
    fake.environment = {"instance": "abc<b>123", "pid": 7}
    fake.logs = [{"level": "INFO", "service": "dashboard", "correlation_id": "c1",
                  "message": "hi", "timestamp": "t1"}]  # fmt: skip
    logs = LogsStore(client, lambda: operator(fake))
    traces = TracesStore(client, lambda: operator(fake))
    tail, breakdown = LogTail(store=logs), TraceBreakdown(store=traces)
    run(logs.refresh())
    run(traces.refresh())
    assert "environment that answered: abc&lt;b&gt;123 (pid 7)" in tail.table()
    assert "abc<b>" not in tail.table()
    status = breakdown.status()
    assert r"abc\<b\>123 \(pid 7\)" in status and "traced there" in status


def test_observability_opens_on_the_newest_requests_breakdown(
    fake: FakeApi, client: ApiClient
) -> None:
    # Given two traced requests, When the section refreshes with nothing chosen, Then the
    # newest one's breakdown is drawn; a request chosen later is kept on later refreshes.
    fake.ops_routes = True
    fake.traces = [
        {"correlation_id": cid, "method": "GET", "path": "/api/v2/auth/me", "status": 200,
         "duration_ms": 1.0, "spans": [{"name": "route handler", "kind": "handler",
                                        "start_ms": 0, "duration_ms": 1.0}]}
        for cid in ("older", "newer")
    ]  # fmt: skip
    store = TracesStore(client, lambda: operator(fake))
    run(store.refresh_showing_newest())
    assert store.selected == "newer" and store.trace["correlation_id"] == "newer"
    run(store.load("older"))
    run(store.refresh_showing_newest())
    assert store.selected == "older"

"""The operator sections at the param level: quotas, circuits, chaos, caching, observability,
testing, overview and architecture, each read from the API (or report files), each
saying why when its source is missing, and each following the system when it changes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import panel as pn
import pytest

from services.costs import SEED_DEV
from services.observability import get_logger
from services.store.cache_counts import PublishedCaches
from tests.unit.workbench import seed
from tests.unit.workbench.loop import run
from tests.unit.workbench.markdown import shown
from tests.unit.workbench.memory_api import API, MemoryApi
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


# The fields of the providers' plans the quota gauges are drawn from.
PLAN_LIMITS = {
    "tiingo_paid_hourly_limit": 50,
    "tiingo_paid_daily_limit": 1000,
    "tiingo_paid_monthly_symbols": 500,
    "finnhub_paid_per_second": 30,
    "finnhub_paid_per_minute": 60,
    "sendgrid_paid_daily_limit": 100,
}


def operator(api: MemoryApi) -> str:
    return api.operator_token


def live_tiles(api: MemoryApi, client: ApiClient) -> LiveTiles:
    return LiveTiles(
        health=HealthStore(client),
        latency=LatencyStore(client),
        ops=OpsStore(client, lambda: operator(api)),
    )


def test_quota_gauges_show_use_level_and_bands(api: MemoryApi, client: ApiClient) -> None:
    # Given the route missing, Then the panel says why; once served, Then each service's
    # gauge shows its use, its level and the bands; When calls are made, Then it moves.
    # Given the providers' plans with these limits, and some of each used this period
    api.reconfigure(**PLAN_LIMITS)
    api.use_quota("tiingo:requests_per_hour", 10)
    api.use_quota("tiingo:symbols_per_month", 30)
    api.use_quota("finnhub:requests_per_minute", 50)
    store = QuotasStore(client, lambda: operator(api), warning_fraction=0.4)
    panel = QuotasPanel(store=store)
    panel.__panel__()
    run(store.refresh())
    assert store.status == "missing" and "404" in panel.gauges()
    api.ops_routes = True
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
    api.use_quota("tiingo:requests_per_hour", 30)
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


def test_without_a_token_no_ops_route_is_asked(api: MemoryApi, client: ApiClient) -> None:
    api.ops_routes = True
    store = QuotasStore(client, lambda: None)
    run(store.refresh())
    assert store.status == "no_token" and "operator token" in store.note
    assert api.requests == []


def test_circuit_cards_follow_the_live_state(api: MemoryApi, client: ApiClient) -> None:
    live = live_tiles(api, client)
    panel = CircuitsPanel(live=live, open_timeout_s=60, failure_window_s=60)
    panel.__panel__()
    run(live.refresh())
    assert "404" in panel.cards()
    api.ops_routes = True
    api.fail_provider("finnhub", 5)
    run(live.refresh())
    cards = panel.cards()
    assert 'data-circuit="finnhub" data-state="open"' in cards
    assert "State: OPEN" in cards and "Failures: 5/5" in cards and "half-open in" in cards
    assert 'data-circuit="tiingo" data-state="closed"' in cards and "Failures: 0/5" in cards
    assert "→ 5 failures in 60 s →" in panel.machine() and "→ 60 s →" in panel.machine()
    assert "| finnhub | CLOSED | OPEN | 5 failures within 60 s" in panel.transitions()
    api.start_trial("finnhub")
    run(live.refresh())
    assert "State: HALF-OPEN" in panel.cards() and "trial call" in panel.cards()


def test_chaos_switch_and_ingestion_open_the_circuit(api: MemoryApi, client: ApiClient) -> None:
    # Given the chaos panel, When tiingo_500 is switched on and ingestion runs five times,
    # Then the scenario reads ON and the Tiingo circuit reported to the page is open.
    api.ops_routes = True
    live = live_tiles(api, client)
    store = ChaosStore(client, lambda: operator(api))
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
    fault = api.hosts.tiingo.faults.describe()
    assert fault["mode"] == "http_500" and 119 < fault["remaining_s"] <= 120
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
    assert api.hosts.tiingo.faults.describe()["mode"] is None
    assert panel.toggles["tiingo_500"].color == "default"


def test_chaos_without_a_token_says_so(client: ApiClient) -> None:
    store = ChaosStore(client, lambda: None)
    panel = ChaosPanel(store=store, ops=OpsStore(client, lambda: None))
    run(store.run_ingestion())
    assert "operator token" in panel.outcome()


def test_caching_panel_lists_layers_and_totals(api: MemoryApi, client: ApiClient) -> None:
    ops = OpsStore(client, lambda: operator(api))
    panel = CachingPanel(ops=ops)
    panel.__panel__()
    run(ops.refresh())
    assert "404" in panel.layers() and ">n/a<" in panel.totals()
    api.ops_routes = True
    api.read_sentiment(4)
    run(ops.refresh())
    row = r"| configuration\_sentiment | 5 min | Read-through (per version) | 3 | 1 | 75% |"
    assert row in panel.layers()
    first = ops.hit_rate
    assert first is not None and f">{first:.0%}<" in panel.totals()
    assert f">{ops.cache_hits}<" in panel.totals()
    # More reads of a cached answer: the rate rises, and the tiles follow.
    api.read_sentiment(10)
    run(ops.refresh())
    assert ops.hit_rate is not None and ops.hit_rate > first
    assert f">{ops.hit_rate:.0%}<" in panel.totals()


def test_caching_reduction_is_measured_reads_saved(client: ApiClient) -> None:
    ops = OpsStore(client, lambda: None)
    panel = CachingPanel(ops=ops)
    ops.param.update(caches_status="live", cache_totals={"reads_saved": 8, "load_reads": 2})
    assert "**80%** (8 reads saved of 10" in panel.reduction()


def log(service: str, level: str, message: str, correlation_id: str, **extra: Any) -> None:
    """A record logged by `service` as its function logs one (into the process's buffer)."""
    logger = get_logger(service, "DEBUG")
    logger.set_correlation_id(correlation_id)
    logger.log(getattr(logging, level), message, extra=extra)
    logger.set_correlation_id(None)


def test_log_tail_filters_through_the_route(api: MemoryApi, client: ApiClient) -> None:
    api.ops_routes = True
    cycle, failure = f"cycle-{uuid.uuid4().hex}", f"failure-{uuid.uuid4().hex}"
    log("ingestion", "INFO", "cycle", cycle, new=3)
    log("dashboard", "ERROR", "boom", failure)
    store = LogsStore(client, lambda: operator(api))
    tail = LogTail(store=store)
    tail.__panel__()
    run(store.refresh())
    table = tail.table()
    assert "cycle" in table and "boom" in table and "new=3" in table
    # (The buffer is the process's: the services of other tests' records are listed too.)
    assert {"", "ingestion", "dashboard"} <= set(tail.service_select.options.values())
    tail.level_select.value = "ERROR"
    assert "boom" in tail.table() and cycle not in tail.table()
    tail.level_select.value = ""
    tail.correlation_input.value = cycle
    assert cycle in tail.table() and "boom" not in tail.table()
    # Paused, the periodic refresh asks nothing.
    tail.live_toggle.value = False
    asked = len(api.requests)
    run(store.follow())
    assert len(api.requests) == asked


def traced_request(client: ApiClient) -> str:
    """The correlation ID of a request the API traced: a session's list of configurations."""
    token = run(client.anonymous_session()).body["token"]
    return str(run(client.list_configurations(token)).headers["x-correlation-id"])


def test_trace_breakdown_draws_the_chosen_request(api: MemoryApi, client: ApiClient) -> None:
    api.ops_routes = True
    traced = traced_request(client)
    store = TracesStore(client, lambda: operator(api))
    panel = TraceBreakdown(store=store)
    panel.__panel__()
    assert isinstance(panel.chart(), pn.pane.Markdown)
    run(store.refresh())
    # Newest first (the traces are the process's: other tests' requests follow).
    assert next(iter(panel.request_select.options.values())) == traced
    click(panel.show_button)
    assert isinstance(panel.chart(), pn.pane.HoloViews)
    summary = shown(panel.summary())
    assert "| route handler | handler |" in summary and "0 DynamoDB calls" in summary
    run(store.load("gone"))
    assert "no trace of that correlation ID" in panel.chart().object


def traffic_over_two_minutes(api: MemoryApi) -> None:
    """Requests in two minutes, some answered from the API's caches: the metrics function
    has a trend and hit rates to compute."""
    api.read_sentiment(4)
    api.clock.advance(60)
    api.read_sentiment(2)


def test_metric_charts_wait_for_the_route_then_draw_it(api: MemoryApi, client: ApiClient) -> None:
    api.ops_routes = True
    traffic_over_two_minutes(api)
    store = MetricsStore(client, lambda: operator(api))
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
    # (The requests were made in two minutes: the trend is drawn before the group's bars.)
    kinds = [type(chart.object).__name__ for chart in charts.charts.objects]
    assert kinds == ["Overlay", "Bars"]
    assert charts.charts.objects[-1].object.opts["title"] == "api.latency ms"
    charts.group_select.value = "caches.hit_rate by layer"
    assert charts.charts.objects[-1].object.opts["title"] == "caches.hit rate by layer"
    snapshot = api.memory.metrics.latest_snapshot()
    assert snapshot is not None
    # Every figure of the snapshot belongs to a group: none is left for the single table.
    assert store.groups["api"]["requests"] == snapshot["api"]["requests"]
    assert "window_s" not in str(store.groups["api"]) and charts.single() == ""
    assert store.figure("p99") == snapshot["api"]["latency_ms"]["p99"]
    assert "sentiment_distribution" in store.groups and "window_s" not in str(
        store.groups["sentiment_distribution"]
    )
    layers = snapshot["caches"]["layers"]
    rates = {n: layer["hit_rate"] for n, layer in layers.items() if layer["hit_rate"] is not None}
    assert rates and store.groups["caches.hit_rate by layer"] == rates
    assert f"computed at {snapshot['computed_at']}" in shown(charts.heading())


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
    api: MemoryApi, client: ApiClient, tmp_path: Path
) -> None:
    api.ops_routes = True
    ops = OpsStore(client, lambda: operator(api))
    metrics = MetricsStore(client, lambda: operator(api))
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
    # When the metrics function has run on the API's requests, Then the API's own p99 is shown
    traffic_over_two_minutes(api)
    snapshot = api.runtime.run_metrics()
    run(metrics.refresh())
    p99 = snapshot["api"]["latency_ms"]["p99"]
    assert f">{p99:.1f}<" in panel.p99_tile() and "server side" in panel.p99_tile()
    ops.cache_totals = {"reads_saved": 3, "load_reads": 1}
    assert ">75%<" in panel.reduction_tile()


def test_architecture_shows_live_stage_and_table_counts(api: MemoryApi, client: ApiClient) -> None:
    api.ops_routes = True
    seed.queued_emails(api.memory, api.clock(), 2)
    articles = api.memory.articles
    pending, analyzed = articles.count_by_status("pending"), articles.count_by_status("analyzed")
    pipeline = PipelineStore(client, lambda: operator(api))
    table = TableStore(client, lambda: operator(api))
    metrics = MetricsStore(client, lambda: operator(api))
    panel = ArchitecturePanel(pipeline=pipeline, table=table, metrics=metrics)
    panel.__panel__()
    run(pipeline.refresh())
    run(table.refresh())
    run(metrics.refresh())
    flow = panel.flow()
    assert f'data-count="pending">{pending}<' in flow
    assert f'data-count="analyzed">{analyzed}<' in flow
    assert "e-mails (metrics n/a)" in flow
    items = shown(panel.items())
    assert f"| article | {pending + analyzed} |" in items
    assert f"analyzed: {analyzed}" in items and f"pending: {pending}" in items
    # An ingestion cycle moves the counts (its stories are analyzed as they are published).
    run(client.ops_run_ingestion(operator(api)))
    run(pipeline.refresh())
    now_analyzed = articles.count_by_status("analyzed")
    assert now_analyzed > analyzed and f'data-count="analyzed">{now_analyzed:,}<' in panel.flow()
    # Once the metrics function has run, the outbox's e-mails are counted too.
    api.runtime.run_metrics()
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


def test_caching_panel_shows_each_environment(api: MemoryApi, client: ApiClient) -> None:
    # Given an API of two execution environments: the one answering, and another whose
    # counters (published to the store 3.5 s ago) name it with a hostile-looking id
    api.ops_routes = True
    other = {"accounts": {"hits": 1, "misses": 4, "entries": 0, "reads_saved": 0}}
    published = api.clock() - timedelta(seconds=3.5)
    api.memory.cache_counts.publish(PublishedCaches("b|*x*", None, published, other))
    ops = OpsStore(client, lambda: operator(api))
    panel = CachingPanel(ops=ops)
    panel.__panel__()
    # When the page refreshes
    run(ops.refresh())
    # Then the totals say they span both, and each environment has its row, text escaped
    table = panel.environments()
    answering = f"| `{api.deps.instance}` (answered) | {os.getpid()} |"
    assert answering in table
    assert r"| `b\|*x*` | - | 1 | 4 | 20% | 0 | 0 | 3.5 s ago |" in table
    assert "across 2 environments" in ops.caches_note
    assert "every API environment" in panel.totals()


def test_caching_panel_of_an_api_before_environments_shows_no_breakdown() -> None:
    # An API from before the execution environments answers without them (the API of this
    # repository always lists them, so this one answer is made up here).
    older = {
        "layers": {"configuration_sentiment": {"ttl_s": 300, "hits": 3, "misses": 1}},
        "totals": {"hits": 3, "misses": 1},
    }
    answer = httpx.MockTransport(lambda request: httpx.Response(200, json=older))
    ops = OpsStore(ApiClient(API, transport=answer), lambda: "operator-token")
    panel = CachingPanel(ops=ops)
    run(ops.refresh())
    assert ops.caches_status == "live"
    assert panel.environments() == "" and "environment" not in ops.caches_note


def test_logs_and_traces_say_which_environment_answered(api: MemoryApi, client: ApiClient) -> None:
    api.ops_routes = True
    log("dashboard", "INFO", "hi", f"c-{uuid.uuid4().hex}")
    logs = LogsStore(client, lambda: operator(api))
    traces = TracesStore(client, lambda: operator(api))
    tail, breakdown = LogTail(store=logs), TraceBreakdown(store=traces)
    run(logs.refresh())
    run(traces.refresh())
    answering = f"{api.deps.instance} (pid {os.getpid()})"
    assert f"environment that answered: {answering}" in tail.table()
    status = breakdown.status()
    assert answering.replace("(", r"\(").replace(")", r"\)") in status
    assert "traced there" in status
    # An environment's id is shown as text, whatever it holds.
    hostile = {"instance": "abc<b>123", "pid": 7}
    logs.environment, traces.environment = hostile, hostile
    assert "environment that answered: abc&lt;b&gt;123 (pid 7)" in tail.table()
    assert "abc<b>" not in tail.table()
    assert r"abc\<b\>123 \(pid 7\)" in breakdown.status()


def test_observability_opens_on_the_newest_requests_breakdown(
    api: MemoryApi, client: ApiClient
) -> None:
    # Given two traced requests, When the section refreshes with nothing chosen, Then the
    # newest one's breakdown is drawn; a request chosen later is kept on later refreshes.
    api.ops_routes = True
    older, newer = traced_request(client), traced_request(client)
    store = TracesStore(client, lambda: operator(api))
    run(store.refresh_showing_newest())
    assert store.selected == newer and store.trace["correlation_id"] == newer
    run(store.load(older))
    run(store.refresh_showing_newest())
    assert store.selected == older

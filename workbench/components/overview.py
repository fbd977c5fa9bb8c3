"""Welcome: what we are building, the key decisions and the numbers, each read live."""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.tile import TILE_CSS, tile_html
from workbench.stores.costs import CostStore
from workbench.stores.latency import LatencyStore
from workbench.stores.metrics import MetricsStore
from workbench.stores.ops import OpsStore
from workbench.stores.reports import ReportsStore

WHAT = """### What we are building

A real-time financial sentiment platform: news from Tiingo and Finnhub is ingested, scored
by our text model and a confidence-weighted ensemble, and served per watchlist through a REST
API, with alerts by e-mail. Everything on this page is read from the running system."""

DECISIONS = """### Key technical decisions

- Single-table DynamoDB design with 3 GSIs (`by_sentiment`, `by_status`, `by_tag`)
- Lambda with a Function URL (not API Gateway)
- In-memory caching for warm invocations, every layer measured
- Circuit breakers and quotas per external service, shared through the table"""


class OverviewPanel(Viewer):
    ops: OpsStore = param.ClassSelector(class_=OpsStore)  # type: ignore[assignment]
    metrics: MetricsStore = param.ClassSelector(class_=MetricsStore)  # type: ignore[assignment]
    latency: LatencyStore = param.ClassSelector(class_=LatencyStore)  # type: ignore[assignment]
    reports: ReportsStore = param.ClassSelector(class_=ReportsStore)  # type: ignore[assignment]
    costs: CostStore = param.ClassSelector(class_=CostStore)  # type: ignore[assignment]

    @param.depends("reports.suites")
    def tests_tile(self) -> str:
        passed = self.reports.tests_passed
        if passed is None:
            return tile_html(
                "Tests passing", "n/a", "no JUnit report in reports/ yet (make unit, make test)"
            )
        suites = self.reports.suites
        total = sum(int(s["tests"]) for s in suites.values())
        unit = suites.get("unit")
        sub = f"{unit['passed']} unit" if unit else f"of {total}"
        detail = "; ".join(f"{n}: {s['passed']}/{s['tests']}" for n, s in suites.items())
        return tile_html("Tests passing", f"{passed:,}", f"reports/junit-*.xml: {detail}", sub=sub)

    @param.depends("costs.monthly_usd", "costs.note")
    def cost_tile(self) -> str:
        if self.costs.monthly_usd is None:
            return tile_html("Monthly cost (dev)", "n/a", self.costs.note or "not available")
        value = f"${self.costs.monthly_usd:,.2f}"
        services = ", ".join(f"{k} ${v:.2f}" for k, v in sorted(self.costs.by_service.items()))
        tooltip = f"{self.costs.note}\n{services}"
        return tile_html("Monthly cost (dev)", value, tooltip, sub="estimate per month")

    @param.depends("ops.cache_totals", "ops.caches_status")
    def reduction_tile(self) -> str:
        totals = self.ops.cache_totals
        saved, loads = totals.get("reads_saved"), totals.get("load_reads")
        source = "GET /api/v2/ops/caches: reads saved / (reads saved + reads the loads made)"
        if not isinstance(saved, int) or not isinstance(loads, int) or not saved + loads:
            return tile_html("DynamoDB read reduction", "n/a", f"{source}; no cached reads yet")
        share = saved / (saved + loads)
        sub = f"{saved} of {saved + loads} reads"
        return tile_html("DynamoDB read reduction", f"{share:.0%}", source, sub=sub)

    @param.depends("metrics.figures", "metrics.status", "latency.p99_ms")
    def p99_tile(self) -> str:
        reported = self.metrics.figure("p99", "p99_ms")
        if reported is not None:
            source = "GET /api/v2/ops/metrics: the API's own p99 over its recent requests"
            return tile_html("p99 latency (ms)", f"{reported:.1f}", source, sub="server side")
        measured = self.latency.p99_ms
        if measured is None:
            return tile_html("p99 latency (ms)", "n/a", "no request measured yet")
        source = "measured by this workbench (round trip of its API calls); the metrics route "
        source += "is not available"
        return tile_html("p99 latency (ms)", f"{measured:.1f}", source, sub="round trip")

    def __panel__(self) -> pn.viewable.Viewable:
        def tile(method: object) -> pn.pane.HTML:
            return pn.pane.HTML(method, stylesheets=[TILE_CSS], margin=(5, 5))

        return pn.Column(
            "## Welcome to the Deep Dive",
            "A production-grade sentiment analysis service built with AWS serverless.",
            pn.Row(
                pn.pane.Markdown(WHAT, sizing_mode="stretch_width"),
                pn.pane.Markdown(DECISIONS, sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            ),
            "### The numbers",
            pn.FlexBox(
                tile(self.tests_tile),
                tile(self.cost_tile),
                tile(self.reduction_tile),
                tile(self.p99_tile),
            ),
            sizing_mode="stretch_width",
        )

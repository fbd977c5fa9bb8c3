"""Testing strategy: the pyramid, each suite's latest results and the latest benchmark run,
read from the reports the runs write (`reports/junit-<suite>.xml`, `reports/benchmarks.json`)."""

from __future__ import annotations

from html import escape
from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.format import md_code, md_text
from workbench.stores.reports import ReportsStore

# The pyramid's layers, bottom first: what each suite is for.
SUITES = {
    "unit": "pure logic; moto for small table tests, respx for HTTP; no network",
    "integration": "DynamoDB Local; handlers invoked with real events",
    "e2e": "the whole local stack over HTTP, with a test oracle of what the emulators emitted",
    "notebooks": "papermill runs of the scenario notebooks",
    "ui": "Playwright driving chromium against panel serve",
    "infrastructure": "terraform fmt / validate, checkov",
}


class SuiteResultsPanel(Viewer):
    store: ReportsStore = param.ClassSelector(class_=ReportsStore)  # type: ignore[assignment]

    @param.depends("store.suites")
    def pyramid(self) -> str:
        layers = []
        names = [n for n in ("ui", "e2e", "integration", "unit") if n in SUITES]
        for depth, name in enumerate(names):
            suite = self.store.suites.get(name)
            figure = f"{suite['passed']}/{suite['tests']} passing" if suite else "no report yet"
            width = 40 + depth * 20
            layers.append(
                f'<div data-suite="{name}" style="width:{width}%;margin:2px auto;padding:4px;'
                'text-align:center;border-radius:4px;background:rgba(37,99,235,.15)">'
                f"<b>{escape(name)}</b> · {escape(figure)}</div>"
            )
        return "".join(layers)

    @param.depends("store.suites", "store.problems", "store.refreshed")
    def suites(self) -> str:
        store = self.store
        if not store.suites:
            where = store.directory
            return (
                f"No test report in `{where}` yet: `make unit` (or `integration`, `e2e`, `ui`, "
                "`test`) writes `reports/junit-<suite>.xml`."
            )
        rows = [
            "| suite | what it covers | tests | passed | failed | errors | skipped | seconds "
            "| ran at | report |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
        ]
        for name, suite in store.suites.items():
            rows.append(
                f"| **{name}** | {SUITES.get(name, '')} | {suite['tests']} | {suite['passed']} "
                f"| {suite['failures']} | {suite['errors']} | {suite['skipped']} "
                f"| {md_text(suite['seconds'])} | {md_text(suite['ran_at'])} "
                f"| {md_code(suite['report'], cell=True)} |"
            )
        failed = [f"- {md_code(t)}" for s in store.suites.values() for t in s["failed"][:10]]
        if failed:
            rows += ["", "**Failing in the latest runs:**", *failed]
        rows += [f"- could not read {md_text(p)}" for p in store.problems]
        return "\n".join(rows)

    @param.depends("store.benchmarks")
    def benchmarks(self) -> str:
        report: dict[str, Any] = self.store.benchmarks
        if not report:
            return "No benchmark report yet: `make bench` writes `reports/benchmarks.json`."
        kind = "quick" if report.get("quick") else "full"
        machine = report.get("machine") or {}
        rows = [
            f"Latest run: {report.get('generated_at')} ({kind}, {machine.get('cpus')} CPUs, "
            f"Python {machine.get('python')})",
            "",
            "| benchmark | measurement | value | unit | budget | within |",
            "|---|---|---:|---|---:|---|",
        ]
        for name, bench in (report.get("benchmarks") or {}).items():
            for measure, m in (bench.get("measurements") or {}).items():
                within = {None: "", True: "yes", False: "**no**"}.get(m.get("within_budget"), "")
                budget = "" if m.get("budget") is None else m.get("budget")
                rows.append(
                    f"| {md_text(name)} | {md_text(measure)} | {md_text(m.get('value'))} "
                    f"| {md_text(m.get('unit'))} | {md_text(budget)} "
                    f"| {within} |"
                )
        return "\n".join(rows)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "## Testing Strategy",
            "A testing pyramid with oracle-based end-to-end checks. The figures below are the "
            "latest runs' own reports, read again on every refresh.",
            pn.pane.HTML(self.pyramid, sizing_mode="stretch_width"),
            "### Suites (latest run of each)",
            pn.pane.Markdown(self.suites, sizing_mode="stretch_width"),
            "### Benchmarks",
            pn.pane.Markdown(self.benchmarks, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

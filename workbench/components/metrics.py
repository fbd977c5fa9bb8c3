"""Metric charts from `GET /api/v2/ops/metrics`: every group of figures the route reports,
drawn as bars; the route not served yet is said, not invented."""

from __future__ import annotations

from functools import partial

import panel as pn
import param
from panel.viewable import Viewer

from workbench.charts.observability import bars, per_minute
from workbench.components.format import md_text, problem_markdown
from workbench.stores.metrics import MetricsStore

# Charts sent with the section's first message; the others follow.
FIRST_CHARTS = 2
REST_AFTER_MS = 300


class MetricCharts(Viewer):
    store: MetricsStore = param.ClassSelector(class_=MetricsStore)  # type: ignore[assignment]

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.run_button = pn.widgets.Button(label="Compute metrics now")
        self.run_button.on_click(self._run)
        self.grid = pn.GridBox(ncols=2, sizing_mode="stretch_width")
        self.store.param.watch(self._draw, ["groups", "series", "status"])
        self._draw()

    async def _run(self, _: object) -> None:
        await self.store.run_now()

    @param.depends("store.computed_at", "store.problem", "store.status")
    def heading(self) -> str:
        store = self.store
        lines = [problem_markdown(store.problem)]
        if store.status == "live" and store.computed_at:
            lines.append(
                f"Snapshot computed at {md_text(store.computed_at)} by the metrics function (every "
                "minute; the route keeps it 60 s)."
            )
        return "\n\n".join(line for line in lines if line)

    @param.depends("store.groups", "store.status", "store.note")
    def message(self) -> str:
        store = self.store
        if store.status == "missing":
            return (
                f"**Metrics not available yet**: {md_text(store.note)}. The charts appear at "
                "the next refresh once there are metrics."
            )
        if store.status != "live":
            return f"**Metrics**: {md_text(store.note or 'waiting for the first answer')}"
        if not store.groups:
            return "The metrics route answered with no figures yet."
        return ""

    def _draw(self, *_: object) -> None:
        # A layout kept for the component's life and given new objects: the page updates it
        # in place on every refresh.
        store = self.store
        plots: list[pn.viewable.Viewable] = []
        if store.status == "live":
            plots = [
                pn.pane.HoloViews(bars(values, name.replace("_", " ")), sizing_mode="stretch_width")
                for name, values in sorted(store.groups.items())
            ]
            if len(store.series) >= 2:
                plots.insert(
                    0, pn.pane.HoloViews(per_minute(store.series), sizing_mode="stretch_width")
                )
        document = pn.state.curdoc
        if document is None or document.session_context is None or len(plots) <= FIRST_CHARTS:
            self.grid.objects = plots
            return
        # The first charts go to the page in a message of their own and the rest follow a
        # moment later, once the browser has drawn those: a dozen charts rendered at once
        # would leave the section blank for seconds.
        self.grid.objects = plots[:FIRST_CHARTS]
        document.add_timeout_callback(partial(setattr, self.grid, "objects", plots), REST_AFTER_MS)

    @param.depends("store.figures", "store.status")
    def single(self) -> str:
        grouped = {
            f"{group}.{name}" for group, values in self.store.groups.items() for name in values
        }
        loose = {
            k: v
            for k, v in self.store.figures.items()
            if k not in grouped and ".layers." not in k and not k.endswith(("_s", ".total"))
        }
        if self.store.status != "live" or not loose:
            return ""
        rows = ["| metric | value |", "|---|---:|"]
        rows += [f"| {md_text(name)} | {value:g} |" for name, value in sorted(loose.items())]
        return "\n".join(rows)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "### Metrics `GET /api/v2/ops/metrics`",
            pn.Row(self.run_button),
            pn.pane.Markdown(self.heading, sizing_mode="stretch_width"),
            pn.pane.Markdown(self.message, sizing_mode="stretch_width"),
            self.grid,
            pn.pane.Markdown(self.single, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

"""Metric charts from `GET /api/v2/ops/metrics`: every group of figures the route reports,
drawn as bars; the route not served yet is said, not invented."""

from __future__ import annotations

import panel as pn
import param
from panel.viewable import Viewer

from workbench.charts.observability import bars, per_minute
from workbench.components.format import md_text, problem_markdown
from workbench.stores.metrics import MetricsStore

# The group shown first: where a request's time goes.
DEFAULT_GROUP = "api.latency_ms"


class MetricCharts(Viewer):
    """The per-minute trend of requests and p99 latency, and one group of figures at a time
    as bars (the group chosen in the list): a dozen charts drawn at once would keep the
    section blank for seconds on a small machine."""

    store: MetricsStore = param.ClassSelector(class_=MetricsStore)  # type: ignore[assignment]

    def __init__(self, **params: object) -> None:
        super().__init__(**params)
        self.run_button = pn.widgets.Button(label="Compute metrics now")
        self.run_button.on_click(self._run)
        self.group_select = pn.widgets.Select(label="Group of figures", options=[], width=260)
        self.group_select.param.watch(self._draw, "value")
        self.charts = pn.Row(sizing_mode="stretch_width")
        self._drawing = False
        self.store.param.watch(self._draw, ["groups", "series", "status"])
        document = pn.state.curdoc
        if document is not None and document.session_context is not None:
            # Drawn at the next tick: the section is on the screen first, its charts after.
            document.add_next_tick_callback(self._draw)
        else:
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
        # Layouts kept for the component's life and given new objects: the page updates them
        # in place on every refresh.
        if self._drawing:
            return  # the list's own change, while this draw sets it
        self._drawing = True
        try:
            self._draw_charts()
        finally:
            self._drawing = False

    def _draw_charts(self) -> None:
        store = self.store
        names = sorted(store.groups) if store.status == "live" else []
        chosen = self.group_select.value if self.group_select.value in names else None
        if chosen is None and names:
            chosen = DEFAULT_GROUP if DEFAULT_GROUP in names else names[0]
        self.group_select.param.update(options=names, value=chosen)
        plots: list[pn.viewable.Viewable] = []
        if store.status == "live" and len(store.series) >= 2:
            plots.append(pn.pane.HoloViews(per_minute(store.series), sizing_mode="stretch_width"))
        group = self.group_select.value
        if group in store.groups:
            title = group.replace("_", " ")
            plots.append(
                pn.pane.HoloViews(bars(store.groups[group], title), sizing_mode="stretch_width")
            )
        self.charts.objects = plots

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
            self.group_select,
            self.charts,
            pn.pane.Markdown(self.single, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

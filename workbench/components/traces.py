"""A chosen request's timing breakdown (trace), from `GET /api/v2/ops/traces/{id}`."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.charts.observability import waterfall
from workbench.components.format import environment_name, md_code, md_text, problem_markdown
from workbench.stores.traces import TracesStore


def _label(trace: dict[str, Any]) -> str:
    return (
        f"{trace.get('method')} {trace.get('path')} → {trace.get('status') or trace.get('error')}"
        f" ({trace.get('duration_ms')} ms) · {trace.get('correlation_id')}"
    )


class TraceBreakdown(Viewer):
    store: TracesStore = param.ClassSelector(class_=TracesStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.request_select = pn.widgets.Select(label="Request", options={}, width=620)
        self.show_button = pn.widgets.Button(label="Show breakdown", color="primary", align="end")
        self.show_button.on_click(self._show)
        self.store.param.watch(self._choices, "traces")
        self._choices()
        self.view = pn.Column(sizing_mode="stretch_width")
        self.store.param.watch(self._draw, ["trace", "problem"])
        self._draw()

    def _choices(self, *_: Any) -> None:
        chosen = self.request_select.value
        options = {_label(t): str(t.get("correlation_id")) for t in self.store.traces}
        self.request_select.options = options
        if chosen in options.values():
            self.request_select.value = chosen

    async def _show(self, _: Any) -> None:
        await self.store.load(self.request_select.value or None)

    def chart(self) -> pn.viewable.Viewable:
        trace = self.store.trace
        if self.store.problem is not None:
            return pn.pane.Markdown(problem_markdown(self.store.problem))
        if not trace.get("spans"):
            return pn.pane.Markdown("Choose a request, then show its breakdown.")
        return pn.pane.HoloViews(
            waterfall(trace["spans"], title=_label(trace)), sizing_mode="stretch_width"
        )

    def _draw(self, *_: object) -> None:
        # One container for the component's life, given a new chart: updated in place.
        self.view.objects = [self.chart()]

    @param.depends("store.trace")
    def summary(self) -> str:
        trace = self.store.trace
        if not trace.get("spans"):
            return ""
        rows = ["| span | kind | starts at (ms) | takes (ms) | detail |", "|---|---|---:|---:|---|"]
        for span in trace["spans"]:
            detail = ", ".join(f"{k}: {v}" for k, v in (span.get("detail") or {}).items())
            rows.append(
                f"| {md_text(span.get('name'))} | {md_text(span.get('kind'))} "
                f"| {md_text(span.get('start_ms'))} | {md_text(span.get('duration_ms'))} "
                f"| {md_text(detail)} |"
            )
        # The path is whatever a caller asked for: text, never Markdown.
        return (
            f"**{md_text(trace.get('method'))} {md_text(trace.get('path'))}** → "
            f"{md_text(trace.get('status'))}, {md_text(trace.get('duration_ms'))} ms in all, "
            f"{md_text(trace.get('dynamodb_calls'))} DynamoDB calls taking "
            f"{md_text(trace.get('dynamodb_ms'))} ms (correlation ID "
            f"{md_code(trace.get('correlation_id'))}, started {md_text(trace.get('started_at'))})"
            "\n\n" + "\n".join(rows)
        )

    @param.depends("store.status", "store.note", "store.traces", "store.environment")
    def status(self) -> str:
        if self.store.status != "live":
            return f"**Traces**: {md_text(self.store.note or 'waiting for the first answer')}"
        return (
            f"{len(self.store.traces)} recent requests traced (the page's own polling of "
            "`/health` and `/api/v2/ops/*` is left out), kept in the memory of the API "
            f"environment that answered: {md_text(environment_name(self.store.environment))}. "
            "A request another environment served is traced there."
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "### Request traces `GET /api/v2/ops/traces`",
            "Where a request's time went: the session read made before the request is "
            "resolved, the rate limit, the route handler and each DynamoDB call inside it "
            "(in AWS, the same breakdown is X-Ray's).",
            pn.pane.Markdown(self.status),
            pn.Row(self.request_select, self.show_button),
            self.view,
            pn.pane.Markdown(self.summary, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

"""Service-health tiles: overall status and each dependency check, live."""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.format import md_code, md_text
from workbench.stores.health import HealthStore

_COLOURS = {"healthy": "#16a34a", "degraded": "#d97706", "unhealthy": "#dc2626"}


class HealthPanel(Viewer):
    """What `GET /health` says right now, as a person reads it."""

    store: HealthStore = param.ClassSelector(class_=HealthStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._status = pn.indicators.String(
            label="Service Health", value=self.store.param.status, font_size="28pt"
        )
        self._latency = pn.indicators.Number(
            label="Health round trip (ms)", value=0, format="{value:.1f}", font_size="28pt"
        )
        self._checks = pn.pane.Markdown(self._checks_markdown, sizing_mode="stretch_width")
        self.store.param.watch(self._update_latency, "latency_ms")

    def _update_latency(self, event: param.parameterized.Event) -> None:
        self._latency.value = event.new or 0

    @param.depends("store.checks", "store.status", "store.error")
    def _checks_markdown(self) -> str:
        if self.store.error:
            return f"**API unreachable:** {md_code(self.store.error)}"
        rows = ["| check | status | detail |", "|---|---|---|"]
        for name, check in sorted(self.store.checks.items()):
            status = check.get("status", "?")
            colour = _COLOURS.get(status, "#6b7280")
            detail = ", ".join(f"{k}: {v}" for k, v in check.items() if k != "status")
            rows.append(
                f"| {md_text(name)} | <span data-check='{html.escape(name, quote=True)}' "
                f"style='color:{colour}'>{md_text(status)}</span> "
                f"| {md_text(detail)} |"
            )
        return "\n".join(rows)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "## Health Check",
            "`GET /health`: service health and dependency status, refreshed every 2 s.",
            pn.Row(self._status, self._latency),
            self._checks,
            sizing_mode="stretch_width",
        )

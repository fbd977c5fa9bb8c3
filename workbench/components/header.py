"""The header tiles: interview timer, service health, latency, cache hit rate, circuits."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.tile import TILE_CSS, tile_html
from workbench.stores.live import LiveTiles
from workbench.stores.timer import TimerStore
from workbench.stores.tour import TourStore

_HEALTH_TONES = {"healthy": "good", "degraded": "warn", "unhealthy": "bad", "unreachable": "bad"}


class HeaderTiles(Viewer):
    live: LiveTiles = param.ClassSelector(class_=LiveTiles)  # type: ignore[assignment]
    timer: TimerStore = param.ClassSelector(class_=TimerStore)  # type: ignore[assignment]
    tour: TourStore | None = param.ClassSelector(class_=TourStore, default=None)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        small = {"width": 58, "margin": (0, 3)}
        self.start_button = pn.widgets.Button(label="Start", color="success", **small)
        self.pause_button = pn.widgets.Button(label="Pause", **small)
        self.reset_button = pn.widgets.Button(label="Reset", **small)
        self.start_button.on_click(lambda _: self.timer.start())
        self.pause_button.on_click(lambda _: self.timer.pause())
        self.reset_button.on_click(lambda _: self.timer.reset())
        # The tour starts the timer and steps through the sections in the Deep Dive's order.
        self.tour_button = pn.widgets.Button(
            label="Start the tour", color="primary", width=186, margin=(5, 5)
        )
        self.tour_button.on_click(lambda _: self.tour.start() if self.tour else None)

    @param.depends("timer.elapsed_s", "timer.running")
    def timer_tile(self) -> str:
        state = "running" if self.timer.running else "paused"
        tooltip = "Interview timer, kept by the workbench server (start, pause, reset below)"
        return tile_html("Interview timer", self.timer.display, tooltip, sub=state)

    @param.depends("live.health.status", "live.health.checks", "live.health.error")
    def health_tile(self) -> str:
        health = self.live.health
        checks = "; ".join(
            f"{name}: {check.get('status', '?')}" for name, check in sorted(health.checks.items())
        )
        detail = health.error or checks or "waiting for the first answer"
        tooltip = f"GET /health: {detail}"
        if health.version:
            tooltip += f"\nversion {health.version}, environment {health.environment}"
        tone = _HEALTH_TONES.get(health.status, "muted")
        return tile_html("Service Health", health.status, tooltip, tone=tone)

    def _latency_tooltip(self) -> str:
        latency = self.live.latency
        tooltip = (
            "Measured by this workbench, not reported by the API: the round trip of its own "
            f"last {latency.count} API calls (a rolling window of {latency.window}), from "
            "sending each request to receiving its answer."
        )
        if latency.slowest:
            tooltip += f"\nSlowest in the window: {latency.slowest}"
        return tooltip

    @param.depends("live.latency.mean_ms", "live.latency.count")
    def average_tile(self) -> str:
        latency = self.live.latency
        value = "—" if latency.mean_ms is None else f"{latency.mean_ms:.1f}"
        sub = f"{latency.count} calls"
        return tile_html("Avg Latency (ms)", value, self._latency_tooltip(), sub=sub)

    @param.depends("live.latency.p99_ms", "live.latency.count")
    def p99_tile(self) -> str:
        latency = self.live.latency
        value = "—" if latency.p99_ms is None else f"{latency.p99_ms:.1f}"
        return tile_html("p99 Latency (ms)", value, self._latency_tooltip(), sub="nearest rank")

    @param.depends("live.ops.caches_status", "live.ops.hit_rate", "live.ops.caches_note")
    def cache_tile(self) -> str:
        ops = self.live.ops
        if ops.caches_status != "live":
            value = "…" if ops.caches_status == "waiting" else "n/a"
            return tile_html("Cache Hit Rate", value, ops.caches_note or "waiting", tone="muted")
        value = "no reads" if ops.hit_rate is None else f"{ops.hit_rate:.0%}"
        sub = f"{ops.cache_hits} hits / {ops.cache_misses} misses"
        return tile_html("Cache Hit Rate", value, ops.caches_note, sub=sub)

    @param.depends(
        "live.ops.circuits_status", "live.ops.circuits_healthy", "live.ops.circuits_note"
    )
    def circuits_tile(self) -> str:
        ops = self.live.ops
        if ops.circuits_status != "live":
            value = "…" if ops.circuits_status == "waiting" else "n/a"
            note = ops.circuits_note or "waiting"
            return tile_html("Circuits Healthy", value, note, tone="muted")
        healthy, total = ops.circuits_healthy or 0, ops.circuits_total or 0
        tone = "good" if healthy == total else "bad"
        value = f"{healthy}/{total}"
        return tile_html("Circuits Healthy", value, ops.circuits_note, tone=tone, sub="closed")

    def __panel__(self) -> pn.viewable.Viewable:
        def tile(method: Any) -> pn.pane.HTML:
            return pn.pane.HTML(method, stylesheets=[TILE_CSS], margin=(5, 5))

        timer = pn.Column(
            tile(self.timer_tile),
            pn.Row(self.start_button, self.pause_button, self.reset_button, margin=(0, 5)),
            *([self.tour_button] if self.tour else []),
            width=196,
        )
        return pn.FlexBox(
            timer,
            tile(self.health_tile),
            tile(self.average_tile),
            tile(self.p99_tile),
            tile(self.cache_tile),
            tile(self.circuits_tile),
            align_items="flex-start",
            sizing_mode="stretch_width",
        )

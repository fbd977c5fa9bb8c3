"""Chaos engineering: each fault scenario switched on and off from the page, what to watch,
and an ingestion cycle on demand so the fault meets real calls at once."""

from __future__ import annotations

from functools import partial
from html import escape
from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from services.resilience.chaos import SCENARIO_NAMES
from workbench.components.format import call_markdown, md_text, problem_markdown
from workbench.stores.chaos import ChaosStore
from workbench.stores.ops import OpsStore

WHAT_TO_OBSERVE = """### What to observe

1. **Circuit state changes**: the *Circuit Breaker* section's Tiingo card turns from CLOSED
   (green) to OPEN (red) once the failures reach the threshold (run ingestion a few times with
   `tiingo_500` on); the header's *Circuits Healthy* tile drops and *Service Health* reads
   `degraded`.
2. **Graceful degradation**: with `finnhub_500` on, a configuration's sentiment (*Sentiment*
   section) is built from Tiingo and our model; `source_status` names the missing source.
3. **Self-healing**: after the open timeout the circuit is HALF-OPEN and lets one trial call
   through; switch the scenario off and run ingestion: the trial succeeds and the circuit
   closes.
4. **The free-plan experience**: with `free_plan_keys` on, run ingestion once: the *Sentiment*
   section marks Tiingo and Finnhub `not_entitled` with the provider's reason, the score
   comes from our model over Finnhub's company news, and *Service Health* reads `degraded`
   (`plans`); no circuit opens. Switch it off and run ingestion: the sources come back."""


class ChaosPanel(Viewer):
    store: ChaosStore = param.ClassSelector(class_=ChaosStore)  # type: ignore[assignment]
    ops: OpsStore = param.ClassSelector(class_=OpsStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        # One switch per scenario the API's contract names, built once: a refresh only
        # changes their state, which the page always shows (views added later may not be).
        self.toggles: dict[str, pn.widgets.Toggle] = {}
        self.states: dict[str, pn.pane.HTML] = {}
        rows = []
        for name in sorted(SCENARIO_NAMES):
            toggle = pn.widgets.Toggle(label=name, width=150, disabled=True)
            toggle.param.watch(partial(self._toggled, name), "value")
            self.toggles[name] = toggle
            self.states[name] = pn.pane.HTML(self._state_html(name), width=700)
            rows.append(pn.Row(toggle, self.states[name]))
        self.switches = pn.Column(*rows, sizing_mode="stretch_width")
        self.duration_input = pn.widgets.FloatInput(
            label="Duration (s, optional)", value=None, start=1, end=3600, width=180
        )
        self.duration_input.link(self.store, value="duration_s")
        self.ingest_button = pn.widgets.Button(
            label="Run ingestion now", color="primary", align="end"
        )
        self.ingest_button.on_click(self._ingest)
        self.store.param.watch(self._sync, "scenarios")
        self._sync()

    def _sync(self, *_: Any) -> None:
        scenarios = self.store.scenarios
        for name, toggle in self.toggles.items():
            scenario = scenarios.get(name, {})
            enabled = bool(scenario.get("enabled"))
            toggle.param.update(
                value=enabled,
                color="danger" if enabled else "default",
                disabled=not scenario.get("available", False),
            )
            self.states[name].object = self._state_html(name)

    def _state_html(self, name: str) -> str:
        scenario = self.store.scenarios.get(name)
        if scenario is None:
            return f'<div data-scenario-pending="{escape(name)}">not reported yet</div>'
        enabled = bool(scenario.get("enabled"))
        if not scenario.get("available", True):
            state = f"unavailable: {scenario.get('reason')}"
        elif enabled:
            remaining = float(scenario.get("remaining_s") or 0)
            state = "ON" + (f", {remaining:.0f} s left" if remaining else "")
        else:
            state = "off"
        injected = sum(
            int(t.get("injected", 0))
            for t in (scenario.get("targets") or {}).values()
            if isinstance(t, dict)
        )
        colour = "#dc2626" if enabled else "#6b7280"
        return (
            f'<div data-scenario="{escape(name)}"><b style="color:{colour}">{escape(state)}</b>'
            f" · {injected} faults injected · {escape(str(scenario.get('description', '')))}</div>"
        )

    async def _toggled(self, name: str, event: param.parameterized.Event) -> None:
        # The toggle also moves when the page shows the API's state: that is no request.
        if bool(self.store.scenarios.get(name, {}).get("enabled")) == event.new:
            return
        await self.store.switch(name, event.new)

    async def _ingest(self, _: Any) -> None:
        await self.store.run_ingestion()

    @param.depends("store.status", "store.note")
    def status(self) -> str:
        if self.store.status == "live":
            return ""
        return f"**Chaos**: {md_text(self.store.note or 'waiting for the first answer')}"

    @param.depends("store.last_call", "store.problem", "store.last_summary", "store.busy")
    def outcome(self) -> str:
        store = self.store
        lines = ["working…"] if store.busy else []
        if store.problem is not None:
            lines.append(problem_markdown(store.problem))
        summary = store.last_summary
        if summary:
            errors = summary.get("errors") or {}
            fetched = summary.get("fetched") or {}
            lines.append(
                f"**Ingestion cycles run from this page**: {store.ingestion_runs}. Last: "
                f"fetched {md_text(fetched)}, new {md_text(summary.get('new'))}, errors "
                f"{md_text(errors or 'none')}"
            )
        lines.append(call_markdown(store.last_call, empty="", body=False))
        return "\n\n".join(line for line in lines if line)

    @param.depends("ops.circuits", "ops.circuits_status")
    def effects(self) -> str:
        if self.ops.circuits_status != "live":
            return ""
        cells = ", ".join(
            f"{md_text(name)}: **{md_text(str(c.get('state', '?')).replace('_', '-').upper())}** "
            f"({md_text(c.get('failures'))}/{md_text(c.get('threshold'))})"
            for name, c in sorted(self.ops.circuits.items())
        )
        return f"Circuits now: {cells}"

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "## Chaos Engineering",
            "Inject failures inside the provider emulators (`POST /api/v2/ops/chaos`, local and "
            "dev only) and watch the circuit breakers, quotas and fallbacks meet them over HTTP.",
            pn.pane.Markdown(self.status),
            "### Failure injection scenarios",
            self.switches,
            pn.Row(self.duration_input, self.ingest_button),
            pn.pane.Markdown(self.effects, sizing_mode="stretch_width"),
            pn.pane.Markdown(self.outcome, sizing_mode="stretch_width"),
            WHAT_TO_OBSERVE,
            sizing_mode="stretch_width",
        )

"""Circuit breakers: the state machine, each provider's live card and the recent transitions."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.format import duration_text, md_text, seconds_until
from workbench.stores.live import LiveTiles

_STATE_COLOURS = {"closed": "#16a34a", "open": "#dc2626", "half_open": "#d97706"}
CIRCUIT_CSS = """
.machine { display:flex; align-items:center; flex-wrap:wrap; gap:8px; margin:6px 0; }
.machine .state { border:2px solid; border-radius:8px; padding:6px 14px; font-weight:600; }
.machine .arrow { opacity:.75; font-size:13px; }
.cards { display:flex; flex-wrap:wrap; gap:10px; }
.circuit { border:2px solid; border-radius:8px; padding:10px 14px; min-width:200px; }
.circuit .name { font-size:16px; font-weight:600; }
.circuit .state { font-size:20px; font-weight:700; }
"""


def state_label(state: str) -> str:
    return state.replace("_", "-").upper()


class CircuitsPanel(Viewer):
    """Reads the circuits the header's refresh already fetches; the clock-driven figures (time
    to half-open) are recomputed on every refresh."""

    live: LiveTiles = param.ClassSelector(class_=LiveTiles)  # type: ignore[assignment]
    open_timeout_s = param.Number(default=None, allow_None=True, doc="the API's setting")
    failure_window_s = param.Number(default=None, allow_None=True, doc="the API's setting")

    def _threshold(self) -> Any:
        thresholds = {c.get("threshold") for c in self.live.ops.circuits.values()}
        return thresholds.pop() if len(thresholds) == 1 else "N"

    @param.depends("live.ops.circuits", "open_timeout_s")
    def machine(self) -> str:
        window = f" in {self.failure_window_s:g} s" if self.failure_window_s else ""
        timeout = f"{self.open_timeout_s:g} s" if self.open_timeout_s else "the timeout"

        def state(name: str, what: str) -> str:
            colour = _STATE_COLOURS[name]
            return (
                f'<span class="state" style="border-color:{colour};color:{colour}">'
                f"{state_label(name)}<br><small>{what}</small></span>"
            )

        return (
            '<div class="machine">'
            f"{state('closed', 'normal operation')}"
            f'<span class="arrow">→ {self._threshold()} failures{window} →</span>'
            f"{state('open', 'calls refused at once')}"
            f'<span class="arrow">→ {timeout} →</span>'
            f"{state('half_open', 'one trial call')}"
            '<span class="arrow">→ success closes, failure reopens</span></div>'
        )

    @param.depends("live.refreshes", "live.ops.circuits", "live.ops.circuits_status")
    def cards(self) -> str:
        ops = self.live.ops
        if ops.circuits_status != "live":
            return f"<p><b>Circuits</b>: {escape(ops.circuits_note or 'waiting')}</p>"
        now = datetime.now(UTC)
        cards = []
        for service, circuit in sorted(ops.circuits.items()):
            state = str(circuit.get("state", "unknown"))
            colour = _STATE_COLOURS.get(state, "#6b7280")
            if state == "open":
                due = seconds_until(circuit.get("retry_at"), now)
                timing = f"half-open in {duration_text(due)}"
            elif state == "half_open":
                trial = "running" if circuit.get("trial_in_progress") else "next call"
                timing = f"trial call: {trial}"
            else:
                timing = "calls pass through"
            changed = circuit.get("changed_at") or "never"
            cards.append(
                f'<div class="circuit" data-circuit="{escape(service)}" '
                f'data-state="{escape(state)}" style="border-color:{colour}" '
                f'title="GET /api/v2/ops/circuits; last change {escape(str(changed))}">'
                f'<div class="name">{escape(service.capitalize())}</div>'
                f'<div class="state" style="color:{colour}">State: '
                f"{escape(state_label(state))}</div>"
                f"<div>Failures: {escape(str(circuit.get('failures', '?')))}/"
                f"{escape(str(circuit.get('threshold', '?')))}"
                f"</div><div>{escape(timing)}</div></div>"
            )
        return f'<div class="cards">{"".join(cards)}</div>'

    @param.depends("live.ops.transitions")
    def transitions(self) -> str:
        shown = self.live.ops.transitions[:10]
        if not shown:
            return "No state change in the last 7 days."
        rows = ["| at | service | from | to | reason | failures |", "|---|---|---|---|---|---|"]
        rows += [
            f"| {md_text(t.get('at'))} | {md_text(t.get('service'))} "
            f"| {md_text(state_label(str(t.get('from'))))} "
            f"| {md_text(state_label(str(t.get('to'))))} | {md_text(t.get('reason'))} "
            f"| {md_text(t.get('failures'))} |"
            for t in shown
        ]
        return "\n".join(rows)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "## Circuit Breaker",
            "Per-service breakers stop cascading failures: their state is shared by every "
            "function instance through the table.",
            "### State machine",
            pn.pane.HTML(self.machine, stylesheets=[CIRCUIT_CSS], sizing_mode="stretch_width"),
            "### Live circuit status `GET /api/v2/ops/circuits`",
            pn.pane.HTML(self.cards, stylesheets=[CIRCUIT_CSS], sizing_mode="stretch_width"),
            "### Recent transitions (newest first)",
            pn.pane.Markdown(self.transitions, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

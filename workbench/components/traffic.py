"""Traffic generator: run a scenario of `services.traffic` from the page and watch it go (the
progress, the request rate, latencies and status codes), then read the summary the CLI
prints."""

from __future__ import annotations

from html import escape
from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from services.traffic import ScenarioResult
from services.traffic.frames import records_frame
from workbench.charts.traffic import OUTCOME_COLOURS, latency_histogram, outcome_bars
from workbench.components.format import md_text
from workbench.stores.traffic import ALL, TrafficStore

SCENARIOS = """| scenario | what it does | what it checks |
|---|---|---|
| **basic** | anonymous session, who am I, a configuration, its sentiment, OHLC, sentiment \
history, an alert rule, health: the happy path | every step answers 2xx |
| **price-sentiment** | OHLC and sentiment history of AAPL, MSFT, NVDA over 1W, 1M, 3M | \
each answer's shape |
| **cache** | a new configuration's sentiment read cold, then warm; each ticker's candles \
likewise | `X-Cache` miss then hits, warm reads faster than cold |
| **load** | *users* concurrent users, each with its own session and configuration, \
*requests* reads each | every user completes |
| **rate-limit** | a burst of *burst* requests from one session, then one after \
`Retry-After` | 429 `RATE_LIMITED`, admitted again after waiting |
| **all** | the five above, one after another | |

The circuit-breaker and chaos scenarios switch faults on: they are in the *Chaos* section."""
# Which inputs a scenario reads (the others are greyed out).
USES = {"users": ("load", ALL), "requests": ("load", ALL), "burst": ("rate-limit", ALL)}
OUTCOME_NOTES = {
    "passed": ("#16a34a", "Every check passed."),
    "failed checks": ("#dc2626", "Some checks failed: the lines marked ! under the table."),
    "cancelled": ("#d97706", "Cancelled."),
    "error": ("#dc2626", "Error."),
}


def outcome_of(status: int) -> str:
    """The colour class of a status (a 503 is a circuit's answer or an error: the charts,
    which see its code, tell them apart)."""
    if 200 <= status < 300:
        return "ok"
    return "rate_limited" if status == 429 else "error"


class TrafficPanel(Viewer):
    store: TrafficStore = param.ClassSelector(class_=TrafficStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        store = self.store
        self.scenario_select = pn.widgets.Select.from_param(
            store.param.scenario, label="Scenario", width=180
        )
        self.users_input = pn.widgets.IntInput.from_param(
            store.param.users, label="Users", width=110
        )
        self.requests_input = pn.widgets.IntInput.from_param(
            store.param.requests, label="Requests per user", width=140
        )
        self.burst_input = pn.widgets.IntInput.from_param(
            store.param.burst, label="Burst", width=110
        )
        self.run_button = pn.widgets.Button(label="Run", color="primary", align="end")
        self.cancel_button = pn.widgets.Button(
            label="Cancel", color="warning", align="end", disabled=True
        )
        self.run_button.on_click(self._run)
        self.cancel_button.on_click(self._cancel)
        self.progress_bar = pn.indicators.Progress(
            value=0, max=100, active=False, sizing_mode="stretch_width"
        )
        store.param.watch(self._sync, ["running", "fraction", "scenario"])
        self._sync()

    def _sync(self, *_: Any) -> None:
        store = self.store
        self.run_button.disabled = store.running
        self.cancel_button.disabled = not store.running
        for name, widget in (
            ("users", self.users_input),
            ("requests", self.requests_input),
            ("burst", self.burst_input),
        ):
            widget.disabled = store.running or store.scenario not in USES[name]
        self.scenario_select.disabled = store.running
        # -1: Bokeh's indeterminate bar, for scenarios that do not know their request count.
        fraction = store.fraction
        self.progress_bar.param.update(
            value=-1 if fraction is None else round(100 * fraction),
            active=store.running,
            bar_color="primary" if store.running or store.outcome != "error" else "danger",
        )

    def _run(self, _: Any) -> None:
        self.store.start()

    def _cancel(self, _: Any) -> None:
        self.store.cancel()

    @param.depends(
        "store.running", "store.current", "store.step", "store.position", "store.done",
        "store.rate_per_s", "store.elapsed_s", "store.outcome", "store.error",
    )  # fmt: skip
    def live(self) -> str:
        store = self.store
        if not store.running and not store.outcome:
            return "Choose a scenario and press **Run**."
        position = f" ({store.position})" if store.position else ""
        figures = f"**{store.done}** requests · **{store.rate_per_s:.1f}** requests/s" + (
            f" · {store.elapsed_s:.1f} s" if store.running else ""
        )
        if store.running:
            return (
                f"Running **{md_text(store.current)}**{md_text(position)}: "
                f"{md_text(store.step)}  \n{figures}"
            )
        colour, note = OUTCOME_NOTES[store.outcome]
        lines = [f'<span style="color:{colour}"><b>{note}</b></span>', figures]
        if store.error:
            lines.insert(1, f"**{md_text(store.error)}**")
        return "  \n".join(lines)

    @param.depends("store.status_counts")
    def status_codes(self) -> str:
        counts = self.store.status_counts
        if not counts:
            return ""
        cells = "".join(
            f'<td data-status="{status}" style="padding:2px 12px">'
            f'<span style="color:{OUTCOME_COLOURS[outcome_of(status)]}"><b>'
            f"{'no answer' if status == 0 else status}</b></span>: {count}</td>"
            for status, count in counts.items()
        )
        return f'<table class="status-codes"><tr><td><b>Status codes</b></td>{cells}</tr></table>'

    @param.depends("store.records")
    def charts(self) -> pn.viewable.Viewable:
        records = self.store.records
        if not records:
            return pn.pane.Markdown("")
        frame = records_frame(ScenarioResult("run", list(records)))
        return pn.Row(
            pn.pane.HoloViews(latency_histogram(frame), sizing_mode="stretch_width"),
            pn.pane.HoloViews(outcome_bars(frame), sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    @param.depends("store.summary_text")
    def summary(self) -> str:
        text = self.store.summary_text
        if not text:
            return ""
        return (
            '<pre class="traffic-summary" style="font-family: monospace; font-size: 12px; '
            f'overflow-x: auto; margin: 0">{escape(text)}</pre>'
        )

    def __panel__(self) -> pn.viewable.Viewable:
        if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
            # A closed tab stops its traffic.
            pn.state.on_session_destroyed(lambda _: self.store.cancel())
        return pn.Column(
            "## Traffic Generator",
            "Generate synthetic traffic to demonstrate system behaviour: the scenarios of the "
            "`sentiment-traffic` command line, sent from the workbench to the API it reads "
            f"(`{self.store.api_url}`).",
            SCENARIOS,
            pn.Row(
                self.scenario_select,
                self.users_input,
                self.requests_input,
                self.burst_input,
                self.run_button,
                self.cancel_button,
            ),
            self.progress_bar,
            pn.pane.Markdown(self.live, sizing_mode="stretch_width"),
            pn.pane.HTML(self.status_codes, sizing_mode="stretch_width"),
            pn.panel(self.charts, sizing_mode="stretch_width"),
            "### Summary",
            pn.pane.HTML(self.summary, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

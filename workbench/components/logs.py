"""A live, filterable tail of the structured logs (`GET /api/v2/ops/logs`)."""

from __future__ import annotations

from html import escape
from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.format import environment_name
from workbench.stores.logs import LEVELS, LogsStore

_LEVEL_COLOURS = {"DEBUG": "#6b7280", "INFO": "#2563eb", "WARNING": "#d97706", "ERROR": "#dc2626"}
# Fields every record has; what is left are the record's own structured fields.
_STANDARD = {"level", "timestamp", "service", "correlation_id", "message", "location"}
LOG_CSS = """
table.logs { border-collapse: collapse; font-size: 12px; width: 100%; }
table.logs td, table.logs th { border-bottom: 1px solid rgba(127,127,127,.25); padding: 2px 6px;
  vertical-align: top; text-align: left; }
table.logs code { font-size: 11px; }
"""


def _extras(record: dict[str, Any]) -> str:
    extra = {k: v for k, v in record.items() if k not in _STANDARD}
    return ", ".join(f"{k}={v}" for k, v in sorted(extra.items()))[:300]


class LogTail(Viewer):
    store: LogsStore = param.ClassSelector(class_=LogsStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.level_select = pn.widgets.Select(
            label="Level (at least)", options={"all": "", **{v: v for v in LEVELS if v}}, width=140
        )
        self.service_select = pn.widgets.Select(label="Function", options={"all": ""}, width=160)
        self.correlation_input = pn.widgets.TextInput(
            label="Correlation ID", placeholder="any", width=300
        )
        self.live_toggle = pn.widgets.Checkbox(label="Follow live", value=True, align="end")
        self.refresh_button = pn.widgets.Button(label="Refresh", align="end")
        self.level_select.link(self.store, value="level")
        self.service_select.link(self.store, value="service")
        self.correlation_input.link(self.store, value="correlation_id")
        self.live_toggle.link(self.store, value="live")
        self.refresh_button.on_click(self._refresh)
        self.store.param.watch(self._services, "services")
        # A new filter shows its records at once, not at the next period.
        self.store.param.watch(self._refilter, ["level", "service", "correlation_id"])

    def _services(self, *_: Any) -> None:
        chosen = self.store.service
        names = sorted({*self.store.services, *([chosen] if chosen else [])})
        self.service_select.options = {"all": "", **{name: name for name in names}}

    async def _refresh(self, _: Any) -> None:
        await self.store.refresh()

    def _refilter(self, *_: Any) -> None:
        pn.state.execute(pn.io.with_lock(self.store.refresh))

    @param.depends("store.records", "store.status", "store.note", "store.environment")
    def table(self) -> str:
        store = self.store
        if store.status != "live":
            return f"<p><b>Logs</b>: {escape(store.note or 'waiting for the first answer')}</p>"
        if not store.records:
            return (
                f"<p>No record matches ({store.buffered} in the buffer of environment "
                f"{escape(environment_name(store.environment))}).</p>"
            )
        rows = []
        for record in store.records:
            level = str(record.get("level", ""))
            colour = _LEVEL_COLOURS.get(level, "#6b7280")
            rows.append(
                "<tr>"
                f"<td>{escape(str(record.get('timestamp', '')))}</td>"
                f'<td style="color:{colour}"><b>{escape(level)}</b></td>'
                f"<td>{escape(str(record.get('service', '')))}</td>"
                f"<td><code>{escape(str(record.get('correlation_id') or '-'))}</code></td>"
                f"<td>{escape(str(record.get('message', '')))}</td>"
                f"<td><code>{escape(_extras(record))}</code></td></tr>"
            )
        return (
            f"<p>{len(store.records)} newest of {store.buffered} buffered records "
            "(sanitised before logging: e-mails masked, secrets never written), from the memory "
            f"of the API environment that answered: {escape(environment_name(store.environment))}. "
            "Records of the other environments are kept in theirs.</p>"
            '<table class="logs"><tr><th>time</th><th>level</th><th>function</th>'
            "<th>correlation ID</th><th>message</th><th>fields</th></tr>"
            f"{''.join(rows)}</table>"
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "### Structured logs `GET /api/v2/ops/logs`",
            pn.Row(
                self.level_select,
                self.service_select,
                self.correlation_input,
                self.live_toggle,
                self.refresh_button,
            ),
            pn.pane.HTML(self.table, stylesheets=[LOG_CSS], sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

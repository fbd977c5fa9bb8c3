"""Architecture: the data-flow pipeline with live counts per stage, and the single table with
its items per entity and per GSI."""

from __future__ import annotations

from html import escape
from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from services.store.schema import GLOBAL_INDEXES, PARTITION_KEY, SORT_KEY
from workbench.components.format import md_code, md_text
from workbench.stores.metrics import MetricsStore
from workbench.stores.pipeline import PipelineStore
from workbench.stores.table import TableStore

FLOW_CSS = """
.flow { display:flex; flex-wrap:wrap; align-items:stretch; gap:6px; }
.stage { border:1px solid rgba(127,127,127,.45); border-radius:8px; padding:8px 10px;
         width:170px; font-size:12px; }
.stage .title { font-weight:600; font-size:13px; }
.stage .count { font-size:18px; font-weight:700; }
.flow .arrow { align-self:center; font-size:20px; opacity:.6; }
"""
KEYS = """```
USER#{user_id}      | PROFILE            the user
USER#{user_id}      | SESSION#{id}       a sign-in session
USER#{user_id}      | CONFIG#{config_id} a watchlist configuration
CONFIG#{config_id}  | ALERT#{alert_id}   an alert rule
TOKEN#{hash}        | TOKEN              bearer / magic-link / OAuth-state token (hashed)
ARTICLE#{dedup_key} | ARTICLE, TAG#{t}   a news story and its ticker entries
SENTIMENT#{t}#{src} | {res}#{bucket}     time buckets of scores
CIRCUIT#{service}   | STATE              circuit breaker state
QUOTA#{quota}#{p}   | COUNTER, SYMBOLS   a quota's count (or symbol set) of one period
```"""


def _count(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int | float) else "-"


class ArchitecturePanel(Viewer):
    pipeline: PipelineStore = param.ClassSelector(class_=PipelineStore)  # type: ignore[assignment]
    table: TableStore = param.ClassSelector(class_=TableStore)  # type: ignore[assignment]
    metrics: MetricsStore = param.ClassSelector(class_=MetricsStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        # The history backfill of a new embedded stack: a bar and its counts while it runs,
        # then one line saying what it did.
        self._backfill_bar = pn.indicators.Progress(
            value=0, max=100, visible=False, sizing_mode="stretch_width", bar_color="info"
        )
        self._backfill_text = pn.pane.Markdown("", visible=False, margin=(0, 10))
        self._show_backfill()

    @param.depends("pipeline.backfill", watch=True)
    def _show_backfill(self) -> None:
        pipeline = self.pipeline
        line = pipeline.backfill_line
        self._backfill_bar.param.update(
            value=pipeline.backfill_percent, visible=pipeline.backfill_running
        )
        self._backfill_text.param.update(object=md_text(line), visible=bool(line))

    def _stage(self, number: int, title: str, what: str, counts: list[tuple[str, Any]]) -> str:
        lines = "".join(
            f'<div><span class="count" data-count="{escape(label)}">{_count(value)}</span> '
            f"{escape(label)}</div>"
            for label, value in counts
        )
        return (
            f'<div class="stage" data-stage="{number}"><div class="title">{number}. '
            f"{escape(title)}</div><div>{escape(what)}</div>{lines}</div>"
        )

    @param.depends("pipeline.stages", "pipeline.last_runs", "pipeline.status", "metrics.figures")
    def flow(self) -> str:
        pipeline = self.pipeline
        if pipeline.status != "live":
            note = pipeline.note or "waiting for the first answer"
            return f"<p><b>Pipeline</b>: {escape(note)}</p>"
        stages = pipeline.stages
        last = pipeline.last_runs[0] if pipeline.last_runs else {}
        emails = {
            "queued": self.metrics.figure("emails.queued", "emails.pending"),
            "sent": self.metrics.figure("emails.sent"),
        }
        email_counts: list[tuple[str, Any]] = (
            [(f"e-mails {k}", v) for k, v in emails.items()]
            if any(v is not None for v in emails.values())
            else [("e-mails (metrics n/a)", None)]
        )
        requests = self.metrics.figure("api.requests")
        boxes = [
            self._stage(
                1,
                "Ingestion",
                "schedule → Tiingo/Finnhub → items with status pending",
                [("ingested", stages.get("ingested")), ("new in last run", last.get("new"))],
            ),
            self._stage(
                2,
                "SNS fan-out",
                "batches of new items → analysis",
                [
                    ("published", stages.get("published")),
                    ("delivered", stages.get("delivered")),
                    ("dead-lettered", stages.get("dead_lettered")),
                ],
            ),
            self._stage(
                3,
                "Analysis",
                "score, label, confidence → status analyzed",
                [("pending", stages.get("pending")), ("analyzed", stages.get("analyzed"))],
            ),
            self._stage(
                4,
                "Dashboard",
                "REST API over the GSIs",
                [("requests (last hour)", requests)],
            ),
            self._stage(5, "Notification", "alert rules → SendGrid, within quota", email_counts),
        ]
        return f'<div class="flow">{"<span class=arrow>→</span>".join(boxes)}</div>'

    @param.depends("table.entities", "table.indexes", "table.status", "table.items")
    def items(self) -> str:
        table = self.table
        if table.status != "live":
            return f"**Item counts**: {md_text(table.note or 'waiting for the first answer')}"
        rows = [
            f"**{_count(table.items)} items** in {md_code(table.body.get('table', ''))} "
            f"(counted {md_text(table.body.get('age_s', 0))} s ago by a scan of "
            f"{md_text(table.body.get('scan_ms', '?'))} ms)",
            "",
            "| entity | items |",
            "|---|---:|",
        ]
        rows += [f"| {md_text(name)} | {_count(n)} |" for name, n in table.entities.items()]
        if not table.entities:
            rows.append("| (no items yet) | 0 |")
        rows += ["", "| GSI | keys | items | values (most items first) |", "|---|---|---:|---|"]
        for index in GLOBAL_INDEXES:
            found = table.indexes.get(index.name, {})
            top = ", ".join(f"{v}: {n}" for v, n in (found.get("top_values") or {}).items())
            rows.append(
                f"| {index.name} | {index.partition_key} → {index.sort_key} "
                f"| {_count(found.get('items'))} | {md_text(top)} |"
            )
        return "\n".join(rows)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "## Architecture Overview",
            "A serverless event-driven pipeline: the counts are live (`GET /api/v2/ops/pipeline`,"
            " `GET /api/v2/ops/metrics`).",
            "### Data flow pipeline",
            self._backfill_text,
            self._backfill_bar,
            pn.pane.HTML(self.flow, stylesheets=[FLOW_CSS], sizing_mode="stretch_width"),
            f"### DynamoDB single-table design (`{PARTITION_KEY}` | `{SORT_KEY}`, "
            f"{len(GLOBAL_INDEXES)} GSIs) `GET /api/v2/ops/table`",
            pn.Row(
                pn.pane.Markdown(KEYS, width=520),
                pn.pane.Markdown(self.items, sizing_mode="stretch_width"),
                sizing_mode="stretch_width",
            ),
            sizing_mode="stretch_width",
        )

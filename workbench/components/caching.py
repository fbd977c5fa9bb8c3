"""Caching strategy: every cache layer's TTL, pattern, measured hit rate and DynamoDB reads
saved, and the totals, from `GET /api/v2/ops/caches`."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.format import md_code, md_text
from workbench.components.tile import TILE_CSS, tile_html
from workbench.stores.ops import OpsStore

# How each layer is kept fresh: a property of its code, not a figure.
PATTERNS = {
    "accounts": "Read-through, dropped at sign-in",
    "circuit_state": "Write-through",
    "quota_counts": "Batched sync",
    "configuration_lists": "Invalidate on mutate",
    "configuration_sentiment": "Read-through (per version)",
    "ohlc_daily": "Read-through (L1 over the table's L2)",
    "ohlc_intraday": "Read-through (L1 over the table's L2)",
    "metrics": "Read-through",
}


def _ttl(value: Any) -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"{value / 60:g} min" if value >= 60 and value % 60 == 0 else f"{value:g} s"


def _cell(value: Any) -> str:
    return "-" if value is None else md_text(value)


class CachingPanel(Viewer):
    ops: OpsStore = param.ClassSelector(class_=OpsStore)  # type: ignore[assignment]

    @param.depends("ops.cache_layers", "ops.caches_status", "ops.caches_note")
    def layers(self) -> str:
        ops = self.ops
        if ops.caches_status != "live":
            return f"**Cache layers**: {md_text(ops.caches_note or 'waiting for the first answer')}"
        rows = [
            "| layer | TTL | pattern | hits | misses | hit rate | entries | DynamoDB reads saved |",
            "|---|---|---|---:|---:|---:|---:|---:|",
        ]
        for name, layer in sorted(ops.cache_layers.items()):
            if not isinstance(layer, dict):
                continue
            hits, misses = int(layer.get("hits", 0)), int(layer.get("misses", 0))
            rate = f"{hits / (hits + misses):.0%}" if hits + misses else "no reads"
            rows.append(
                f"| {md_text(name)} | {_ttl(layer.get('ttl_s'))} | {PATTERNS.get(name, '-')} "
                f"| {hits} | {misses} | {rate} | {md_text(layer.get('entries', '-'))} "
                f"| {md_text(layer.get('reads_saved', '-'))} |"
            )
        return "\n".join(rows)

    @param.depends("ops.cache_totals", "ops.caches_status")
    def totals(self) -> str:
        ops, totals = self.ops, self.ops.cache_totals
        live = ops.caches_status == "live" and bool(totals)
        source = (
            "GET /api/v2/ops/caches: totals over every layer of every API environment "
            "(execution environment) seen in the last minutes"
        )

        def figure(label: str, key: str) -> str:
            value = totals.get(key) if live else None
            return tile_html(label, "n/a" if value is None else str(value), source)

        hits, misses = totals.get("hits", 0), totals.get("misses", 0)
        rate = f"{hits / (hits + misses):.0%}" if live and hits + misses else "n/a"
        tiles = [
            figure("Cache Hits", "hits"),
            figure("Cache Misses", "misses"),
            tile_html("Hit Rate", rate, source),
            figure("Cached Entries", "entries"),
            figure("DynamoDB Reads Saved", "reads_saved"),
        ]
        return f'<div style="display:flex;flex-wrap:wrap;gap:8px">{"".join(tiles)}</div>'

    @param.depends("ops.cache_totals", "ops.caches_status")
    def reduction(self) -> str:
        totals = self.ops.cache_totals
        saved, load_reads = totals.get("reads_saved"), totals.get("load_reads")
        if not isinstance(saved, int) or not isinstance(load_reads, int) or not saved + load_reads:
            return ""
        share = saved / (saved + load_reads)
        return (
            f"DynamoDB read reduction so far: **{share:.0%}** ({saved} reads saved of "
            f"{saved + load_reads} the cached reads would have cost; measured per entry)."
        )

    @param.depends("ops.cache_environments", "ops.caches_status")
    def environments(self) -> str:
        """One row per execution environment: each keeps its caches in its own memory, so
        its hit rate is its own (a cold one misses while a warm one hits)."""
        found = self.ops.cache_environments
        if self.ops.caches_status != "live" or not found:
            return ""
        rows = [
            "| environment | pid | hits | misses | hit rate | entries | reads saved | last seen |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in found:
            hits, misses = row.get("hits"), row.get("misses")
            counted = isinstance(hits, int) and isinstance(misses, int) and hits + misses > 0
            rate = f"{hits / (hits + misses):.0%}" if counted else "no reads"
            answering = " (answered)" if row.get("answering") else ""
            age = row.get("age_s")
            seen = f"{age:g} s ago" if isinstance(age, int | float) else "-"
            cells = [
                f"{md_code(row.get('instance', '?'), cell=True)}{answering}",
                *(_cell(row.get(key)) for key in ("pid", "hits", "misses")),
                rate,
                *(_cell(row.get(key)) for key in ("entries", "reads_saved")),
                seen,
            ]
            rows.append(f"| {' | '.join(cells)} |")
        return "\n".join(rows)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "## Caching Strategy",
            "Multi-layer in-memory caches of warm function instances: each counts its hits, "
            "misses and entries, and measures the DynamoDB reads its hits avoided. The figures "
            "add up every execution environment of the API; each keeps its own caches.",
            pn.pane.HTML(self.totals, stylesheets=[TILE_CSS], sizing_mode="stretch_width"),
            pn.pane.Markdown(self.reduction, sizing_mode="stretch_width"),
            "### Cache layers",
            pn.pane.Markdown(self.layers, sizing_mode="stretch_width"),
            "### Per environment",
            pn.pane.Markdown(self.environments, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

"""One cache layer as `GET /api/v2/ops/caches` reports it, for the section the layer serves."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.stores.ops import OpsStore


class CacheLayerNote(Viewer):
    """TTL, hit rate and reads saved of one named layer; says why when there is no report."""

    ops: OpsStore = param.ClassSelector(class_=OpsStore)  # type: ignore[assignment]
    layer = param.String(doc="the layer's name in the report, e.g. configuration_lists")
    title = param.String(doc="what the layer caches, for a person")

    @param.depends("ops.cache_layers", "ops.caches_status")
    def note(self) -> str:
        found: Any = self.ops.cache_layers.get(self.layer)
        if self.ops.caches_status != "live" or not isinstance(found, dict):
            why = "not reported yet" if self.ops.caches_status == "live" else "n/a"
            return f"**Cache ({self.title})**: {why} (`GET /api/v2/ops/caches`)"
        reads = int(found.get("hits", 0)) + int(found.get("misses", 0))
        rate = f"{found['hits'] / reads:.0%}" if reads else "no reads yet"
        return (
            f"**Cache ({self.title})**: TTL {found.get('ttl_s', 0):g} s, hit rate {rate} "
            f"({found.get('hits')} hits, {found.get('misses')} misses), "
            f"{found.get('entries')} entries, {found.get('reads_saved')} DynamoDB reads saved "
            "<small>(every API environment, `GET /api/v2/ops/caches`)</small>"
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.pane.Markdown(self.note, sizing_mode="stretch_width")

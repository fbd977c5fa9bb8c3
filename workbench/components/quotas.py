"""External APIs: the adapters, and each provider's quotas (every limit of its plan, and the
own budget if one is set) as gauges with their bands, the tightest first."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.format import duration_text, seconds_until
from workbench.stores.quotas import QuotasStore

_LEVEL_COLOURS = {"ok": "#16a34a", "warning": "#d97706", "critical": "#dc2626"}
GAUGE_CSS = """
.gauge { border: 1px solid rgba(127,127,127,.35); border-radius: 8px; padding: 10px 12px;
         min-width: 230px; margin: 4px; }
.gauge .bar { position: relative; height: 16px; border-radius: 4px; overflow: hidden;
              background: rgba(127,127,127,.15); margin: 6px 0; }
.gauge .fill { position: absolute; left: 0; top: 0; bottom: 0; }
.gauge .band { position: absolute; top: 0; bottom: 0; }
.gauge .mark { position: absolute; top: -2px; bottom: -2px; width: 2px; background: #374151; }
.gauge .figure { font-size: 22px; font-weight: 600; }
.gauge .small { font-size: 11px; opacity: .7; }
.quota-group { display: flex; flex-wrap: wrap; align-items: stretch; margin: 4px 0; }
.quota-group > .provider { width: 100%; font-weight: 600; margin: 6px 4px 0; }
"""
ADAPTERS = """### Adapter pattern

Each provider has its own adapter (`services/adapters/`: Tiingo news and prices, Finnhub news
and sentiment, SendGrid e-mail) behind a small protocol, so the pipeline and the API call
`news()`, `prices()`, `sentiment()` or `send()` without knowing whose wire format answers.
Every call goes through the provider's circuit breaker and quotas, shared by all instances
through the table; a new source is one adapter more."""


def period_unit(period: str) -> str:
    """`2026-11` is a month, `2026-11-05` a day, `2026-11-05T14` an hour, `2026-11-05T14:03`
    a minute, `2026-11-05T14:03:07` a second."""
    if "T" in period:
        return {0: "hour", 1: "minute", 2: "second"}.get(period.count(":"), "period")
    return {7: "month", 10: "day"}.get(len(period), "period")


def limits_of(quota: dict[str, Any]) -> list[dict[str, Any]]:
    """A provider's quotas, tightest first; an answer without `limits` is one quota."""
    limits = quota.get("limits")
    if isinstance(limits, list) and limits:
        return [limit for limit in limits if isinstance(limit, dict)]
    return [quota]


class QuotasPanel(Viewer):
    store: QuotasStore = param.ClassSelector(class_=QuotasStore)  # type: ignore[assignment]

    def gauge(self, service: str, quota: dict[str, Any], now: datetime) -> str:
        store = self.store
        used, limit = int(quota.get("used", 0)), int(quota.get("limit", 0))
        share = used / limit if limit else 0.0
        level = str(quota.get("level", "ok"))
        colour = _LEVEL_COLOURS.get(level, "#6b7280")
        warning, critical = store.warning_fraction * 100, store.critical_fraction * 100
        reserve = (1 - store.reserve_fraction) * 100
        unit = str(quota.get("per") or period_unit(str(quota.get("period", ""))))
        counts = str(quota.get("counts", "requests"))
        name = str(quota.get("name", f"{counts}_per_{unit}"))
        resets = duration_text(seconds_until(quota.get("resets_at"), now))
        bands = (
            f'<div class="band" style="left:{warning}%;width:{critical - warning}%;'
            'background:rgba(217,119,6,.18)"></div>'
            f'<div class="band" style="left:{critical}%;width:{100 - critical}%;'
            'background:rgba(220,38,38,.18)"></div>'
            f'<div class="mark" style="left:{reserve}%" title="priority reserve from here"></div>'
        )
        tooltip = (
            f"GET /api/v2/ops/quotas: {used} of {limit} {counts} in period "
            f"{quota.get('period')}; warning from {warning:.0f} %, critical from "
            f"{critical:.0f} %, the last {store.reserve_fraction:.0%} only for priority calls"
        )
        return (
            f'<div class="gauge" data-limit="{escape(f"{service}:{name}")}" '
            f'title="{escape(tooltip)}">'
            f"<b>{escape(name)}</b> ({limit}/{escape(unit)})"
            f'<div class="figure" style="color:{colour}">{share:.0%}</div>'
            f'<div class="bar">{bands}<div class="fill" style="width:{min(share, 1) * 100:.1f}%;'
            f'background:{colour};opacity:.85"></div></div>'
            f"<div>{used} {escape(counts)} this {escape(unit)} · "
            f"<b style='color:{colour}'>{escape(level)}</b></div>"
            f'<div class="small">period {escape(str(quota.get("period")))}, '
            f"resets in {resets}</div></div>"
        )

    def group(self, service: str, quota: dict[str, Any], now: datetime) -> str:
        """One provider's gauges, the tightest first, as the API lists them."""
        cards = "".join(self.gauge(service, limit, now) for limit in limits_of(quota))
        return (
            f'<div class="quota-group" data-quota="{escape(service)}">'
            f'<div class="provider">{escape(service.capitalize())}</div>{cards}</div>'
        )

    @param.depends("store.quotas", "store.status", "store.note")
    def gauges(self) -> str:
        store = self.store
        if store.status != "live":
            return f"<p><b>Quotas</b>: {escape(store.note or 'waiting for the first answer')}</p>"
        now = datetime.now(UTC)
        groups = "".join(self.group(s, q, now) for s, q in sorted(store.quotas.items()))
        return f"<div>{groups}</div>"

    @param.depends("store.status")
    def legend(self) -> str:
        store = self.store
        return (
            f"Bands: **warning** from {store.warning_fraction:.0%} used, **critical** from "
            f"{store.critical_fraction:.0%}; the line marks the last {store.reserve_fraction:.0%}, "
            "kept for priority calls (prices and sign-in links a person is waiting for), which "
            "scheduled ingestion may not use. A provider has a gauge per limit of its plan "
            "(requests per second, minute, hour or day, distinct symbols per month) and one for "
            "the own budget if set; a call needs room in all of them, one unit per HTTP request. "
            "A refused call is 503 `QUOTA_EXHAUSTED` with `Retry-After`."
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "## External API Integration",
            ADAPTERS,
            "### API quota status `GET /api/v2/ops/quotas`",
            pn.pane.HTML(self.gauges, stylesheets=[GAUGE_CSS], sizing_mode="stretch_width"),
            pn.pane.Markdown(self.legend, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

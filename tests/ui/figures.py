"""Each section's primary figure, found in the page as the browser drew it, and the timings a
person feels (first paint, switching sections, redrawing a chart) read with the page's own
Performance API.

A figure is drawn when the section in view shows it: a Bokeh chart whose title matches with
rows in one of its glyphs of the named kind, or an element (in any shadow root) whose text
matches. Both the browser test of a fresh stack and `make bench` use these.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from services.local.stack import LocalStack
from tests.e2e.api_support import operator_headers
from tests.ui.conftest import start_workbench_stack
from tests.ui.test_workbench_sections import WAIT_MS, Page
from workbench.tour import TOUR

# A new stack's default backfill takes under a minute on a quiet two-core machine; a busy
# one (a test run beside it) takes longer.
BACKFILL_WAIT_S = 300.0


@dataclass(frozen=True)
class Figure:
    """What proves a section drew its result."""

    chart: str = ""  # a regex of a visible chart's title...
    glyph: str = ""  # ...with rows in a glyph of this kind (Quad, Line, VBar...; "" any)
    selector: str = ""  # or visible elements matching this CSS selector...
    text: str = ""  # ...one of which has text matching this regex ("": has a height)


PRIMARY: dict[str, tuple[Figure, ...]] = {
    "overview": (Figure(selector='[data-tile="DynamoDB read reduction"]', text=r"\d"),),
    "architecture": (Figure(selector='[data-count="analyzed"]', text=r"[1-9]"),),
    "authentication": (Figure(selector="td", text=r"^anonymous$"),),
    "configurations": (Figure(selector="p", text=r"\d+ of \d+ configuration"),),
    "sentiment": (Figure(selector="td", text=r"^aggregated$"),),
    "prices": (Figure(chart=r"price and .*sentiment", glyph="Quad"),),
    "analytics": (Figure(chart=r"^Growth of 1", glyph="Line"),),
    "model": (Figure(chart=r"^Known label against stored label", glyph="Rect"),),
    "external-apis": (Figure(selector='[data-quota="tiingo"]', text=r"\d"),),
    "circuits": (Figure(selector='[data-circuit="tiingo"]', text=r"State: "),),
    "traffic": (
        Figure(chart=r"^latency \(ms\)$", glyph="Quad"),
        Figure(selector="td[data-status]", text=r"\d"),
    ),
    "chaos": (Figure(selector='[data-scenario="tiingo_500"]', text=r"\w"),),
    "caching": (Figure(selector='[data-tile="Hit Rate"]', text=r"\d"),),
    # The log tail and the first metric chart (the per-minute trend once there are two
    # minutes of metrics, a group's bars before); the other charts follow.
    "observability": (
        Figure(selector="table.logs td", text=r"\S"),
        Figure(chart=r".", glyph=""),
    ),
    "health": (Figure(selector="[data-check]", text=r"healthy|degraded"),),
    # The pyramid's layer: its counts, or "no report yet" before a suite has run.
    "testing": (Figure(selector='[data-suite="unit"]', text=r"^unit · "),),
    "infrastructure": (Figure(selector="p", text=r"\$[\d,.]+ per month"),),
}

# Given the figures' specs, the page's clock when all are drawn (else null), and what each
# showed. Only visible elements count: every section once shown stays in the page, hidden.
DRAWN_JS = """(figures) => {
  const visible = (el) => el.isConnected && el.getClientRects().length > 0;
  const deep = (root, selector, found) => {
    for (const el of root.querySelectorAll(selector)) if (visible(el)) found.push(el);
    for (const host of root.querySelectorAll('*')) {
      if (host.shadowRoot) deep(host.shadowRoot, selector, found);
    }
    return found;
  };
  const charts = [];
  const walk = (view) => {
    if (!view) return;
    if (view.renderer_views && view.el && visible(view.el)) {
      const glyphs = [];
      for (const rv of view.renderer_views.values()) {
        const m = rv.model;
        if (!m.glyph || !m.data_source) continue;
        const data = m.data_source.data;
        const columns = data instanceof Map ? [...data.values()] : Object.values(data);
        glyphs.push([m.glyph.type, columns.length ? columns[0].length : 0]);
      }
      charts.push([(view.model.title && view.model.title.text) || '', glyphs]);
    }
    const kids = view.child_views || [];
    for (const kid of (kids instanceof Map ? kids.values() : kids)) walk(kid);
  };
  if (window.Bokeh && Bokeh.index) {
    const roots = Bokeh.index instanceof Map ? Bokeh.index.values() : Object.values(Bokeh.index);
    for (const root of roots) walk(root);
  }
  const shown = [];
  for (const figure of figures) {
    if (figure.chart) {
      const title = new RegExp(figure.chart);
      const chart = charts.find(([t, glyphs]) => title.test(t)
        && glyphs.some(([kind, rows]) => (!figure.glyph || kind === figure.glyph) && rows > 0));
      if (!chart) return null;
      const rows = chart[1]
        .filter(([kind]) => !figure.glyph || kind === figure.glyph)
        .map(([, rows]) => rows);
      shown.push(`${chart[0]}: ${figure.glyph || 'glyphs'} x ${Math.max(...rows)}`);
    } else {
      const text = new RegExp(figure.text);
      const element = deep(document, figure.selector, []).find(el => figure.text
        ? text.test(el.textContent.trim())
        : el.getBoundingClientRect().height > 0);
      if (!element) return null;
      shown.push(element.textContent.trim().replace(/\\s+/g, ' ').slice(0, 80));
    }
  }
  return [performance.now(), shown];
}"""
NOW_JS = "() => performance.now()"
# What the page shows as text, paragraphs and cells (to say why a figure is missing).
VISIBLE_TEXT_JS = """() => {
  const found = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) walk(el.shadowRoot);
      if (['P', 'TD'].includes(el.tagName) && el.getClientRects().length) {
        found.push(el.textContent.trim().slice(0, 160));
      }
    }
  };
  walk(document);
  return found.slice(0, 30);
}"""
FIRST_PAINT_JS = """() => {
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  return paint ? paint.startTime : null;
}"""
# The charts of Price & Sentiment and their candles' count, to see a redraw land.
CANDLES_JS = DRAWN_JS.replace("return [performance.now(), shown];", "return shown[0];")


# A request's timing breakdown on the Observability section: its waterfall.
TRACE = (Figure(chart=r"^(GET|POST|PUT|PATCH|DELETE) ", glyph="Segment"),)


def _specs(section: str) -> list[dict[str, str]]:
    return [asdict(figure) for figure in PRIMARY[section]]


def wait_figures(
    page: Page, figures: tuple[Figure, ...], timeout_ms: int = 2 * WAIT_MS
) -> tuple[float, list[str]]:
    """Waits until the page shows every figure: (page clock in ms, what each showed)."""
    specs = [asdict(figure) for figure in figures]
    try:
        handle = page.page.wait_for_function(DRAWN_JS, arg=specs, timeout=timeout_ms, polling=50)
    except PlaywrightTimeout:
        missing = [s for s in specs if not page.page.evaluate(DRAWN_JS, [s])]
        shown = page.page.evaluate(VISIBLE_TEXT_JS)
        raise AssertionError(f"not drawn in {timeout_ms} ms: {missing}; shown: {shown}") from None
    drawn_at, shown = handle.json_value()
    return float(drawn_at), list(shown)


def wait_drawn(page: Page, section: str, timeout_ms: int = 2 * WAIT_MS) -> tuple[float, list[str]]:
    """Waits until the section in view shows its primary figure."""
    return wait_figures(page, PRIMARY[section], timeout_ms)


def open_at(page: Page, section: str) -> dict[str, Any]:
    """The first paint and the first result of a page just opened on `section`."""
    drawn_at, shown = wait_drawn(page, section)
    first_paint = page.page.evaluate(FIRST_PAINT_JS)
    return {"first_paint_ms": first_paint, "first_result_ms": drawn_at, "shown": shown}


def switch_to(page: Page, section: str, label: str) -> dict[str, Any]:
    """Chooses `label` in the sidebar and times it: until the section is on the screen (its
    layout and text) and until its primary figure is drawn."""
    started = float(page.page.evaluate(NOW_JS))
    page.choose(label)
    # The section's column (a shadow host: its text is in its shadow root) with a height.
    shown_at, _ = wait_figures(page, (Figure(selector=f".section-{section}"),))
    drawn_at, shown = wait_drawn(page, section)
    return {
        "section": section,
        "switch_ms": shown_at - started,
        "figure_ms": drawn_at - started,
        "shown": shown,
    }


def redraw_prices(page: Page, range_label: str) -> dict[str, Any]:
    """On Price & Sentiment: presses a range and times it until the chart shows it."""
    before = page.page.evaluate(CANDLES_JS, _specs("prices"))
    started = float(page.page.evaluate(NOW_JS))
    page.click(range_label)
    page.text(f"({range_label}, resolution")
    spec = json.dumps(_specs("prices"))
    handle = page.page.wait_for_function(
        f"""() => {{
          const drawn = ({DRAWN_JS})({spec});
          return drawn && drawn[1][0] !== {json.dumps(before)} ? drawn : null;
        }}""",
        timeout=2 * WAIT_MS,
        polling=50,
    )
    drawn_at, shown = handle.json_value()
    return {"range": range_label, "ms": float(drawn_at) - started, "shown": shown}


def tour_sections() -> list[str]:
    """The sections the interview tour steps through, in its order."""
    return [step.section for step in TOUR]


def start_fresh_stack(root: Path, state: Path, *, api_workers: int | None) -> LocalStack:
    """A new stack as `make workbench` starts one: no earlier state, the history backfill and
    the schedules on, the workbench served."""
    return start_workbench_stack(
        root, state, api_workers=api_workers, in_memory=False, backfill=True
    )


def backfill_state(stack: LocalStack) -> dict[str, Any] | None:
    """The backfill as `GET /api/v2/ops/pipeline` reports it."""
    assert stack.api is not None
    answer = httpx.get(
        f"{stack.api.url}/api/v2/ops/pipeline", headers=operator_headers(stack), timeout=30
    )
    answer.raise_for_status()
    state: dict[str, Any] | None = answer.json().get("backfill")
    return state


def wait_backfilled(stack: LocalStack, timeout_s: float = BACKFILL_WAIT_S) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = backfill_state(stack)
        if state and state.get("status") not in ("pending", "running"):
            return state
        time.sleep(1.0)
    raise AssertionError(f"the backfill did not finish in {timeout_s:.0f} s: {state}")

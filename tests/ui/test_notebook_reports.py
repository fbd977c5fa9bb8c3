"""The notebooks' HTML reports draw their charts with no network: chart notebooks executed on
small parameters against one embedded stack, rendered as `make notebooks` renders them, then
opened from `file://` in chromium with every other request refused."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Any

import nbformat
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from services.settings import Settings
from services.traffic.notebook_report import NotSelfContainedError, render_html
from tests.e2e.api_support import api_stack
from tests.notebooks.conftest import execute

pytestmark = [pytest.mark.ui, pytest.mark.timeout(300)]

# The chart notebooks quick enough to run here, on the parameters the notebook suite uses.
NOTEBOOKS: dict[str, dict[str, Any]] = {
    "interview_tour": {"TICKERS": ["AAPL", "MSFT"], "RANGE": "1W"},
    "load_test": {"USERS": 3, "REQUESTS": 5},
    "price_sentiment_overlay": {"TICKERS": ["AAPL", "NVDA"], "RANGE": "1W"},
}
EXEC_MIME = "application/vnd.holoviews_exec.v0+json"
DRAW_TIMEOUT_MS = 20_000
# Roots of the page's Bokeh documents holding a plot that finished painting its glyphs.
DRAWN_CHARTS_JS = """() => {
  if (window.Bokeh === undefined) return 0;
  const drawn = new Set();
  for (const view of Bokeh.index.all_views()) {
    const plot = view.model.type === "Figure" || view.model.type === "Plot";
    if (plot && view.model.renderers.length > 0 && view.has_finished() && view.el.isConnected)
      drawn.add(view.root.model.id);
  }
  return drawn.size;
}"""


def chart_outputs(notebook: Path) -> int:
    """Outputs holding a Bokeh document with a plot (Panel's own displays hold none)."""
    outputs = [o for c in nbformat.read(notebook, as_version=4).cells for o in c.get("outputs", [])]
    return sum(
        1
        for o in outputs
        if EXEC_MIME in o.get("data", {})
        and re.search(r'"name":"(Figure|Plot)"', o["data"].get("text/html", ""))
    )


@pytest.fixture(scope="module")
def reports(root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each notebook executed (its kernel attaches to the stack through LOCAL_STATE_DIR) and
    rendered to HTML beside it."""
    settings = Settings(
        default_watchlist="AAPL,MSFT,NVDA", circuit_open_timeout_s=2.0, http_timeout_s=0.5,
        ingestion_lookback_s=4 * 24 * 3600,  # news on trading days whatever today is
    )  # fmt: skip
    out = tmp_path_factory.mktemp("notebook-reports")
    state = tmp_path_factory.mktemp("notebook-reports-stack")
    with api_stack(root, state, settings=settings, pipeline=True, schedules=False) as stack:
        assert stack.pipeline is not None
        stack.pipeline.run_ingestion_now()
        with pytest.MonkeyPatch.context() as env:
            env.setenv("LOCAL_STATE_DIR", str(state))
            for name, parameters in NOTEBOOKS.items():
                execute(root, name, out, **parameters)
    return {name: render_html(out / f"{name}.ipynb") for name in NOTEBOOKS}


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_report_draws_its_charts_offline(
    name: str, reports: dict[str, Path], browser: Any
) -> None:
    # Given a report and a browser that may fetch nothing but files
    report = reports[name]
    expected = chart_outputs(report.with_suffix(".ipynb"))
    assert expected >= 1
    page = browser.new_page()
    remote: list[str] = []
    errors: list[str] = []

    def local_only(route: Any) -> None:
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            remote.append(route.request.url)
            route.abort()

    page.route("**/*", local_only)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        # When it is opened from disk
        page.goto(report.as_uri())
        with contextlib.suppress(PlaywrightTimeoutError):  # the count below says what is missing
            page.wait_for_function(f"({DRAWN_CHARTS_JS})() >= {expected}", timeout=DRAW_TIMEOUT_MS)
        drawn = page.evaluate(DRAWN_CHARTS_JS)

        # Then every chart is drawn, nothing was asked of the network and nothing failed
        assert drawn >= expected, f"{drawn} of {expected} charts drawn; fetched {remote}; {errors}"
        assert remote == [], f"fetched {remote}"
        assert errors == []
    finally:
        page.close()


def test_notebook_report_refuses_outputs_that_fetch_bokeh(tmp_path: Path) -> None:
    # Given a notebook whose output loads BokehJS from a CDN (executed without inline=True)
    loader = 'const js_urls = ["https://cdn.example.org/bokeh.min.js"];'
    cell = nbformat.v4.new_code_cell(
        "hv.extension('bokeh')",
        outputs=[nbformat.v4.new_output("display_data", {"application/javascript": loader})],
    )
    notebook = tmp_path / "cdn.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), notebook)

    # When it is rendered, then no report is written
    with pytest.raises(NotSelfContainedError, match=r"cdn\.ipynb"):
        render_html(notebook)
    assert not notebook.with_suffix(".html").exists()

"""A newcomer's first start: a new stack (no earlier state) backfills its history while the
page is already usable, then every section opens on its result, the interview tour steps
through them all, and the timings a person feels are read from the browser's Performance API
(written to `reports/ui-timings.json`; `make bench` judges them against their budgets).

The screenshots of this run are the README's (`reports/screenshots/section-*.png`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.ui.conftest import application_tracebacks
from tests.ui.figures import (
    PRIMARY,
    TRACE,
    backfill_state,
    open_at,
    redraw_prices,
    start_fresh_stack,
    switch_to,
    tour_sections,
    wait_backfilled,
    wait_drawn,
    wait_figures,
)
from tests.ui.test_workbench_sections import WAIT_MS, Page
from workbench.stores.sections import LABELS, SECTION_IDS
from workbench.tour import TOUR

pytestmark = [pytest.mark.ui, pytest.mark.timeout(900)]

TIMINGS = Path("reports") / "ui-timings.json"


def test_a_new_stack_opens_on_results_in_every_section_and_the_tour_walks_them(
    root: Path, tmp_path: Path, browser: Any
) -> None:
    # Given a new stack, with the history backfill on as `make workbench` starts it (one
    # execution environment: the Observability section draws a request's trace, which stays
    # in the environment that served it)
    stack = start_fresh_stack(root, tmp_path / "state", api_workers=1)
    try:
        url = stack.workbench_url or ""
        # When the page is opened at once, Then it is usable while history lands: the
        # Architecture section shows the backfill's progress (or its end, on a fast machine)
        during = Page(browser, f"{url}?section=architecture")
        progress = wait_drawn(during, "architecture")
        # (The screenshot once some history has landed and the header has read the API.)
        landed = re.compile(r"history: (backfilling [1-9]|\d+ days backfilled)")
        during.page.get_by_text(landed).first.wait_for(timeout=2 * WAIT_MS)
        during.page.locator('[data-tile="Service Health"]', has_text="healthy").wait_for(
            timeout=WAIT_MS
        )
        during.screenshot("section-architecture-backfilling")
        during.close()

        # When the backfill finishes
        backfilled = wait_backfilled(stack)
        assert backfilled["status"] == "done", backfilled
        assert backfilled["articles_analyzed"] == backfilled["articles_ingested"] > 1000

        # Then a page opened now draws the Overview's figures on first paint
        page = Page(browser, url)
        opened = open_at(page, "overview")
        page.screenshot("section-overview")
        # And every section, chosen in the sidebar, shows its primary figure
        sections = [
            switch_to(page, section, LABELS[section])
            for section in SECTION_IDS
            if section != "overview"
        ]
        for measured in sections:
            assert len(measured["shown"]) == len(PRIMARY[measured["section"]]), measured
        # (The README's screenshots: each section again, drawn, from the same page.)
        for section in SECTION_IDS:
            page.choose(LABELS[section])
            wait_drawn(page, section)
            if section == "observability":
                # A request's breakdown: the newest traced request's waterfall, shown with
                # the metric charts above it.
                wait_figures(page, TRACE)
                page.page.get_by_text("Compute metrics now").first.scroll_into_view_if_needed()
            page.screenshot(f"section-{section}")
        # And the price chart redraws at another range
        page.choose(LABELS["prices"])
        redraws = [redraw_prices(page, label) for label in ("1W", "1M", "1Y")]

        # When the interview tour starts from the header, Then it steps through every section
        # in the Deep Dive's order, each step beside its section's figure
        page.click("Start the tour")
        assert tour_sections()[0] == TOUR[0].section
        for number, step in enumerate(TOUR, 1):
            page.page.locator(f'[data-tour-step="{number}"]').wait_for(timeout=WAIT_MS)
            page.text(f"Step {number} of {len(TOUR)}")
            page.page.locator(f'[data-section="{step.section}"]').first.wait_for(timeout=WAIT_MS)
            wait_drawn(page, step.section)
            if number < len(TOUR):
                page.click("Next")
        page.page.locator('[data-tile="Interview timer"]', has_text="running").wait_for(
            timeout=WAIT_MS
        )
        page.close()

        TIMINGS.parent.mkdir(parents=True, exist_ok=True)
        TIMINGS.write_text(
            json.dumps(
                {
                    "backfill": backfilled,
                    "backfill_first_view": progress[1],
                    "opened": opened,
                    "sections": sections,
                    "redraws": redraws,
                },
                indent=2,
            )
        )
        assert backfill_state(stack) == backfilled
        log = stack.options.paths.logs_dir / "workbench.log"
        assert application_tracebacks(log.read_text()) == []
    finally:
        stack.stop()

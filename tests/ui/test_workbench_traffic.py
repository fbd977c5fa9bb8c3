"""The traffic generator section in a real browser, against the running stack: a person picks
a scenario, presses Run, watches it go and reads the summary the CLI prints, with no
traceback and no console error."""

from __future__ import annotations

from typing import Any

import pytest

from services.local.stack import LocalStack
from tests.ui.conftest import application_tracebacks
from tests.ui.test_workbench_sections import WAIT_MS, Page

pytestmark = pytest.mark.ui

SUMMARY = "pre.traffic-summary"


def summary_row(page: Page, scenario: str) -> list[str]:
    """The summary's row of `scenario`, once it is there, split into its cells."""
    summary = page.page.locator(SUMMARY).first
    summary.wait_for(timeout=WAIT_MS)
    for line in summary.inner_text().splitlines():
        if line.split()[:1] == [scenario]:
            return line.split()
    raise AssertionError(f"no {scenario} row in {summary.inner_text()!r}")


def wait_for_row(page: Page, scenario: str, requests: int) -> list[str]:
    """The row once it counts `requests` (the table fills while the scenario runs)."""
    for _ in range(WAIT_MS // 250):
        row = summary_row(page, scenario)
        if int(row[1]) == requests:
            return row
        page.page.wait_for_timeout(250)
    raise AssertionError(f"the {scenario} row stayed at {row}")


def test_scenarios_run_and_cancelled_from_the_page_show_their_summary(
    workbench_stack: LocalStack, browser: Any
) -> None:
    # Given the workbench's Traffic Generator section, which runs its default scenario (the
    # happy path) on its first view
    page = Page(browser, workbench_stack.workbench_url or "", height=1600)
    page.choose("Traffic Generator")
    page.text("Generate synthetic traffic")
    page.text("Every check passed.", exact=False)
    page.page.get_by_role("button", name="Run", exact=True).first.wait_for(timeout=WAIT_MS)

    # When the basic scenario is run again by clicking
    page.click("Run")

    # Then the outcome, the status codes, the charts and the CLI's summary appear
    page.text("Every check passed.", exact=False)
    page.page.locator('[data-status="200"]').first.wait_for(timeout=WAIT_MS)
    page.page.locator(SUMMARY, has_text="basic").first.wait_for(timeout=WAIT_MS)
    assert "Scenario" in page.page.locator(SUMMARY).first.inner_text()
    row = summary_row(page, "basic")
    assert int(row[1]) >= 8 and row[2] == "100.0%", row
    page.text("latency (ms)")
    page.screenshot("traffic-generator")

    # When a load of 2 users x 2 requests is chosen and run
    page.page.locator("select:has(option[value='load'])").first.select_option("load")
    for label, value in (("Users", "2"), ("Requests per user", "2")):
        field = page.page.get_by_label(label, exact=True).first
        field.fill(value)
        field.press("Enter")
    page.click("Run")

    # Then its row replaces basic's, filling as the requests answer, until 2 users have each
    # made a session, a configuration and 2 reads
    page.page.locator(SUMMARY, has_text="load").first.wait_for(timeout=WAIT_MS)
    row = wait_for_row(page, "load", 2 * (2 + 2))
    assert row[2] == "100.0%", row
    page.text("Every check passed.", exact=False)
    page.page.get_by_role("button", name="Run", exact=True).first.wait_for(timeout=WAIT_MS)

    # When a rate-limit burst is run and cancelled while it waits out Retry-After
    page.page.locator("select:has(option[value='load'])").first.select_option("rate-limit")
    page.click("Run")
    page.text("waiting Retry-After", exact=False)
    page.click("Cancel")

    # Then the page says so and keeps the burst's row: 429s among its answers
    page.text("Cancelled.", exact=False)
    row = summary_row(page, "rate-limit")
    assert int(row[1]) == 1 + 50 and int(row[4]) > 0, row  # rate limited
    page.page.locator('[data-status="429"]').first.wait_for(timeout=WAIT_MS)
    assert "Traceback" not in page.page.content()
    page.close()
    log = workbench_stack.options.paths.logs_dir / "workbench.log"
    assert application_tracebacks(log.read_text()) == []

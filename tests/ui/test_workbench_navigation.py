"""One navigation in a real browser: a link opens its section, choosing a section changes the
URL, the back button returns to the previous one, and the interview tour steps through the
sections with the timer running."""

from __future__ import annotations

from typing import Any

import pytest

from services.local.stack import LocalStack
from tests.ui.conftest import application_tracebacks
from tests.ui.test_workbench_sections import WAIT_MS, Page
from workbench.tour import TOUR

pytestmark = pytest.mark.ui


def shown(page: Page, section: str) -> None:
    page.page.locator(f'[data-section="{section}"]').first.wait_for(timeout=WAIT_MS)


def test_a_link_opens_its_section_and_the_back_button_returns_to_it(
    workbench_stack: LocalStack, browser: Any
) -> None:
    # Given the page opened on a deep link
    page = Page(browser, f"{workbench_stack.workbench_url}?section=analytics")
    shown(page, "analytics")
    page.text("Does sentiment lead price?")
    # One list of sections, no tabs beside it
    assert page.page.locator(".bk-tab").count() == 0

    # When another section is chosen, Then the URL names it
    page.choose("Caching")
    page.page.wait_for_url("**section=caching**", timeout=WAIT_MS)

    # When the browser goes back, Then the analytics section is shown again
    page.page.go_back()
    page.page.wait_for_url("**section=analytics**", timeout=WAIT_MS)
    shown(page, "analytics")
    page.text("Does sentiment lead price?")

    # When the tour starts from the header, Then step 1 of N shows with the timer running
    page.click("Start the tour")
    page.page.locator('[data-tour-step="1"]').wait_for(timeout=WAIT_MS)
    page.text(f"Step 1 of {len(TOUR)}")
    page.page.locator('[data-tile="Interview timer"]', has_text="running").wait_for(timeout=WAIT_MS)
    shown(page, TOUR[0].section)
    page.page.wait_for_url("**tour=1**", timeout=WAIT_MS)

    # When Next is pressed twice, Then step 3 shows its talking points beside its section
    page.click("Next")
    page.page.locator('[data-tour-step="2"]').wait_for(timeout=WAIT_MS)
    page.click("Next")
    page.page.locator('[data-tour-step="3"]').wait_for(timeout=WAIT_MS)
    page.text(f"Step 3 of {len(TOUR)}")
    page.text(TOUR[2].title)
    shown(page, TOUR[2].section)
    page.page.wait_for_url(f"**section={TOUR[2].section}**", timeout=WAIT_MS)
    page.close()
    log = workbench_stack.options.paths.logs_dir / "workbench.log"
    assert application_tracebacks(log.read_text()) == []


def test_a_tour_link_opens_the_first_step(workbench_stack: LocalStack, browser: Any) -> None:
    # Given the link the interview notebook gives, When it is opened, Then the tour is on
    page = Page(browser, f"{workbench_stack.workbench_url}?tour=1")
    page.page.locator('[data-tour-step="1"]').wait_for(timeout=WAIT_MS)
    shown(page, TOUR[0].section)
    page.text(TOUR[0].title)
    page.close()

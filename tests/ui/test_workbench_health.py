"""The workbench page in a real browser shows the live health of the running stack."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import SCREENSHOTS, application_tracebacks

pytestmark = pytest.mark.ui


def test_health_section_shows_live_status_without_errors(workbench_stack, browser: Any) -> None:
    # Given the stack with the workbench, When a person opens the printed URL,
    # Then the health tiles show the status /health reports, with no console error.
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(workbench_stack.workbench_url)
    page.get_by_text("healthy", exact=True).first.wait_for(timeout=30_000)
    # The section is one of the sidebar's; the header's health tile is always in view.
    page.get_by_role("button", name="Health Check", exact=True).click()
    page.get_by_text("dynamodb").first.wait_for(timeout=30_000)
    content = page.content()
    assert "Traceback" not in content
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "health.png"), full_page=True)
    page.close()
    assert errors == []
    server_log = workbench_stack.options.paths.logs_dir / "workbench.log"
    assert application_tracebacks(server_log.read_text()) == []


def test_health_tile_follows_the_system(make_workbench_stack, browser: Any) -> None:
    # When DynamoDB Local stops, the page's status moves away from healthy on its own.
    workbench_stack = make_workbench_stack()
    page = browser.new_page()
    page.goto(workbench_stack.workbench_url)
    page.get_by_text("healthy", exact=True).first.wait_for(timeout=30_000)
    workbench_stack.dynamodb.stop()
    page.get_by_text("unhealthy", exact=True).first.wait_for(timeout=60_000)
    page.close()

"""The operator sections in a real browser, against the running stack.

Each renders with no traceback and no console error; a chaos switch and the ingestion cycles
it takes turn the Tiingo circuit card from CLOSED to OPEN (and the header's circuits tile
moves with it); a request made outside the page shows up in the log tail and its trace.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from services.local.stack import LocalStack
from tests.e2e.api_support import operator_headers
from tests.ui.conftest import application_tracebacks
from tests.ui.test_workbench_sections import GLYPHS_JS, WAIT_MS, Page

pytestmark = pytest.mark.ui

# The sidebar's entry, and what the section shows once it has read the API.
SECTIONS = {
    "Overview": '[data-tile="DynamoDB read reduction"]',
    "Architecture": '[data-stage="3"] [data-count="analyzed"]',
    "External APIs": '[data-quota="tiingo"]',
    "Circuit Breakers": '[data-circuit="tiingo"]',
    "Chaos": '[data-scenario="tiingo_500"]',
    "Caching": 'td:text-is("configuration_lists")',
    "Observability": "table.logs",
    "Testing": '[data-suite="unit"]',
}
SHOTS = {
    "Overview": "overview",
    "Architecture": "architecture",
    "External APIs": "external-apis",
    "Circuit Breakers": "circuit-breakers",
    "Chaos": "chaos",
    "Caching": "caching",
    "Observability": "observability",
    "Testing": "testing",
}


# A section reads the API when it comes into view; on a loaded machine that takes a while.
SECTION_WAIT_MS = 2 * WAIT_MS


def visit(page: Page, name: str) -> None:
    # The section follows the sidebar through the server: wait for it before reading it.
    page.choose(name, timeout=SECTION_WAIT_MS)
    page.page.locator(SECTIONS[name]).first.wait_for(timeout=SECTION_WAIT_MS)


@pytest.fixture(scope="module")
def stack_with_data(workbench_stack: LocalStack) -> LocalStack:
    """The stack after an ingestion cycle, analysed, and a metrics snapshot: every section
    has figures to show (whatever earlier tests did to the same stack)."""
    pipeline = workbench_stack.pipeline
    assert pipeline is not None and pipeline.topic is not None
    pipeline.run_ingestion_now()
    assert pipeline.topic.drain(timeout_s=180)
    assert workbench_stack.api is not None
    computed = httpx.post(
        f"{workbench_stack.api.url}/api/v2/ops/metrics/run",
        headers=operator_headers(workbench_stack),
        timeout=60,
    )
    assert computed.status_code == 200, computed.text
    return workbench_stack


def test_every_operator_section_renders_without_errors(
    stack_with_data: LocalStack, browser: Any
) -> None:
    workbench_stack = stack_with_data
    page = Page(browser, workbench_stack.workbench_url or "", height=1400)
    for name in SECTIONS:
        visit(page, name)
        if name == "Observability":
            # The metric charts drawn from the snapshot computed above.
            page.text("Snapshot computed at")
            page.page.wait_for_function(
                GLYPHS_JS.replace("return found;", "return found.some(g => g[0] === 'VBar');"),
                # Several charts drawn server-side and sent over: slow on a busy machine.
                timeout=2 * WAIT_MS,
            )
        page.screenshot(SHOTS[name])
    content = page.page.content()
    assert "Traceback" not in content
    page.close()
    log = workbench_stack.options.paths.logs_dir / "workbench.log"
    assert application_tracebacks(log.read_text()) == []


def test_a_request_shows_in_the_log_tail_and_as_a_trace(
    workbench_stack: LocalStack, browser: Any
) -> None:
    # Given the page on the Observability section, When a request is made with a correlation
    # ID of ours, Then filtering the tail by it shows its line, and its trace can be drawn.
    assert workbench_stack.api is not None
    page = Page(browser, workbench_stack.workbench_url or "", height=1600)
    visit(page, "Observability")
    correlation = f"ui-{uuid.uuid4().hex[:10]}"
    answered = httpx.get(
        f"{workbench_stack.api.url}/api/v2/tickers/search",
        params={"q": "apple"},
        headers={"X-Correlation-ID": correlation},
    )
    assert answered.status_code == 200
    box = page.page.get_by_placeholder("any", exact=True)
    box.fill(correlation)
    box.press("Enter")
    page.page.locator("table.logs td", has_text=correlation).first.wait_for(timeout=WAIT_MS)
    page.text("request answered")
    # The trace list follows on the next refresh; the newest request is ours.
    page.page.locator("select").last.locator("option", has_text=correlation).first.wait_for(
        state="attached", timeout=WAIT_MS
    )
    option = page.page.locator("select").last.locator("option", has_text=correlation).first
    page.page.locator("select").last.select_option(value=option.get_attribute("value"))
    page.click("Show breakdown")
    page.text("route handler")
    summary = page.page.locator("p", has_text=re.compile(r"ms in all, \d+ DynamoDB calls"))
    summary.filter(has_text=correlation).first.wait_for(timeout=WAIT_MS)
    assert "/api/v2/tickers/search" in summary.first.inner_text()
    page.screenshot("observability-trace")
    page.close()


def test_chaos_switch_opens_the_tiingo_circuit_on_the_page(
    make_workbench_stack: Any, browser: Any
) -> None:
    # Given a stack of its own (this test breaks Tiingo on purpose) with its circuit closed,
    stack: LocalStack = make_workbench_stack()
    page = Page(browser, stack.workbench_url or "", height=1400)
    visit(page, "Circuit Breakers")
    closed = page.page.locator('[data-circuit="tiingo"][data-state="closed"]')
    closed.wait_for(timeout=WAIT_MS)
    assert "State: CLOSED" in closed.inner_text()
    page.text("3/3")
    circuits_before = page.tile("Circuits Healthy")

    # When tiingo_500 is switched on from the page and ingestion runs until Tiingo's
    # failures reach the threshold,
    visit(page, "Chaos")
    page.click("tiingo_500")
    page.page.locator('[data-scenario="tiingo_500"]', has_text="ON").wait_for(timeout=WAIT_MS)
    for cycle in range(1, 6):
        page.click("Run ingestion now")
        page.page.get_by_text(re.compile(rf"run from this page: {cycle}\.")).first.wait_for(
            timeout=60_000
        )
    page.text("ProviderUnavailableError")
    page.screenshot("chaos-tiingo-500")

    # Then the Tiingo card turns from CLOSED to OPEN, with the failures and the time to
    # half-open, and the header's circuits tile moves.
    visit(page, "Circuit Breakers")
    opened = page.page.locator('[data-circuit="tiingo"][data-state="open"]')
    opened.wait_for(timeout=WAIT_MS)
    text = opened.inner_text()
    assert "State: OPEN" in text and "Failures: 5/5" in text and "half-open in" in text
    page.page.get_by_role("cell", name="OPEN", exact=True).first.wait_for(timeout=WAIT_MS)
    circuits_after = page.tile("Circuits Healthy")
    assert circuits_after[0] != circuits_before[0] and circuits_after[0].startswith("2/3")
    page.screenshot("circuit-open")
    # The scenario goes off again from the page.
    visit(page, "Chaos")
    page.click("tiingo_500")
    page.page.locator('[data-scenario="tiingo_500"]', has_text="off").wait_for(timeout=WAIT_MS)
    page.close()
    log = stack.options.paths.logs_dir / "workbench.log"
    assert application_tracebacks(log.read_text()) == []

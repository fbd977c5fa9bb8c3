"""The workbench's sections in a real browser, against the running stack.

Each section renders with no traceback and no console error (in both themes); a person can
start a session, create a configuration, read its sentiment and draw the price-sentiment
chart by clicking; the header tiles follow what the page does to the system.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.auth.magic_link_preview import mask_address
from services.local.stack import LocalStack
from tests.ui.conftest import SCREENSHOTS, application_tracebacks
from workbench.stores.sections import SECTIONS as PAGE_SECTIONS

pytestmark = pytest.mark.ui

SECTIONS = {
    "Authentication": "Try it: create an anonymous session",
    "Configurations": "Configuration Management",
    "Sentiment": "Sentiment Analysis",
    "Price & Sentiment": "Price and sentiment",
    "Analytics": "Does sentiment lead price?",
    "Model & Accuracy": "Live accuracy",
    "Health Check": "dynamodb",
    "Infrastructure": "Environment parity",
}
WAIT_MS = 30_000
# The sidebar's label of each section, and the id the URL and the crumb name it by.
SECTION_IDS = {section.label: section.id for section in PAGE_SECTIONS}
# What the Bokeh document holds: each renderer's glyph type and how many rows it draws.
GLYPHS_JS = """() => {
  const found = [];
  for (const doc of Bokeh.documents) {
    for (const model of doc.all_models) {
      if (model.glyph === undefined || model.data_source === undefined) continue;
      const data = model.data_source.data;
      const columns = data instanceof Map ? [...data.values()] : Object.values(data);
      found.push([model.glyph.type, columns.length ? columns[0].length : 0]);
    }
  }
  return found;
}"""


class Page:
    """One browser tab on the workbench, collecting console errors as it goes."""

    def __init__(self, browser: Any, url: str, *, height: int = 1800) -> None:
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": height})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)
        self.text("Service Health")

    def text(self, text: str, *, exact: bool = False) -> None:
        # A section shown once stays in the page, hidden when out of view: only visible text
        # counts.
        shown = self.page.get_by_text(text, exact=exact).locator("visible=true")
        shown.first.wait_for(timeout=WAIT_MS)

    def click(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).first.click()

    def choose(self, name: str, *, timeout: int = WAIT_MS) -> None:
        """The sidebar's entry, as a person would use it; the server shows the section (built
        on its first view): wait for the crumb to name this one."""
        self.click(name)
        crumb = f'[data-section="{SECTION_IDS[name]}"]'
        self.page.locator(crumb).first.wait_for(timeout=timeout)

    def section(self, name: str) -> None:
        self.choose(name)
        shown = self.page.get_by_text(SECTIONS[name]).locator("visible=true")
        shown.first.wait_for(timeout=WAIT_MS)

    def tile(self, label: str) -> tuple[str, str]:
        element = self.page.locator(f'[data-tile="{label}"]').first
        return element.inner_text(), element.get_attribute("title") or ""

    def glyphs(self) -> list[tuple[str, int]]:
        return [(kind, rows) for kind, rows in self.page.evaluate(GLYPHS_JS)]

    def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    def close(self) -> None:
        content = self.page.content()
        self.page.close()
        assert "Traceback" not in content
        assert self.errors == []


@pytest.fixture(scope="module")
def stack_with_news(workbench_stack: LocalStack) -> Iterator[LocalStack]:
    """The stack after one ingestion cycle, analysed, so sentiment history has points."""
    pipeline = workbench_stack.pipeline
    assert pipeline is not None and pipeline.topic is not None
    # (Earlier modules may have ingested on the same stack: then this cycle finds no news.)
    summary = pipeline.run_ingestion_now()
    assert summary["errors"] == {} and summary["stories"] > 0, summary
    assert pipeline.topic.drain(timeout_s=180)
    yield workbench_stack
    log = workbench_stack.options.paths.logs_dir / "workbench.log"
    assert application_tracebacks(log.read_text()) == []


@pytest.mark.parametrize("theme", ["default", "dark"])
def test_every_section_renders_without_errors(
    stack_with_news: LocalStack, browser: Any, theme: str
) -> None:
    # Given the workbench in either theme, When a person visits every section from the
    # sidebar, Then each shows its content, with no traceback and no console error.
    page = Page(browser, f"{stack_with_news.workbench_url}?theme={theme}")
    for name in SECTIONS:
        page.section(name)
        if theme == "default":
            page.screenshot(name.lower().replace(" & ", "-").replace(" ", "-"))
    page.close()


def test_a_session_a_configuration_its_sentiment_and_the_chart_by_clicking(
    stack_with_news: LocalStack, browser: Any
) -> None:
    page = Page(browser, stack_with_news.workbench_url or "")
    page.text("calls")
    latency_before = page.tile("Avg Latency (ms)")
    cache_before = page.tile("Cache Hit Rate")

    # "Try it" starts an anonymous session and the identity shows it.
    page.section("Authentication")
    page.click("Try it")
    page.text("POST /api/v2/auth/anonymous")
    page.page.get_by_role("cell", name="anonymous", exact=True).first.wait_for(timeout=WAIT_MS)

    # Creating the example configuration by clicking.
    page.section("Configurations")
    page.text("Configurations per anonymous session")
    page.click("Create")
    page.text("'Tech Watchlist' created")
    page.text("1 of 1")
    page.screenshot("configurations-created")

    # Its sentiment, per source, with the sources' status and X-Cache.
    # The section's first view reads it (a miss: the configuration is new).
    page.section("Sentiment")
    page.text("Source status")
    for source in ("tiingo", "finnhub", "our_model", "aggregated"):
        page.page.get_by_role("cell", name=source, exact=True).first.wait_for(timeout=WAIT_MS)
    page.text("X-Cache: miss")
    if not page.tile("Cache Hit Rate")[0].startswith("n/a"):
        # The layer's own report follows at the next refresh: that read was one of its misses.
        layer = re.compile(r"configuration's sentiment\): TTL .*\(\d+ hits, [1-9]\d* misses\)")
        page.page.locator("p", has_text=layer).first.wait_for(timeout=WAIT_MS)
    page.screenshot("sentiment-table")
    # Asking again is answered from the cache.
    page.click("Get sentiment")
    page.text("X-Cache: hit")

    # The overlay: candles (quads and wick segments), the sentiment line, the volume strip.
    # The section draws it on its first view (the first watchlist ticker, 3M): no click needed.
    page.section("Price & Sentiment")
    # (The candles' quads: other sections' figures on the page draw lines and bars too.)
    page.page.wait_for_function(
        GLYPHS_JS.replace("return found;", "return found.some(g => g[0] === 'Quad' && g[1]);"),
        timeout=WAIT_MS,
    )
    glyphs = page.glyphs()
    assert any(kind == "Quad" and rows > 0 for kind, rows in glyphs), glyphs
    # Every quad of a candle has its wick (a chart being replaced may still be listed).
    candles = max(rows for kind, rows in glyphs if kind == "Quad")
    assert any(kind == "Segment" and rows == candles for kind, rows in glyphs), glyphs
    assert any(kind == "Line" and rows > 0 for kind, rows in glyphs), glyphs
    page.text("cache layer")
    # Another range redraws at once (the week's history is hourly: more points).
    drawn = max(rows for kind, rows in glyphs if kind == "Quad")
    page.click("1W")
    page.text("(1W, resolution")
    page.page.wait_for_function(
        GLYPHS_JS.replace(
            "return found;", f"return found.some(g => g[0] === 'Quad' && g[1] && g[1] !== {drawn});"
        ),
        timeout=WAIT_MS,
    )
    page.screenshot("price-sentiment")

    # The header followed: the calls just made moved the latency tile and, once the ops
    # route is served, the cache tile (the sentiment read was a cache miss).
    latency_after = _wait_for_change(page, "Avg Latency (ms)", latency_before)
    assert "Measured by this workbench" in latency_after[1]
    cache_after = page.tile("Cache Hit Rate")
    if cache_after[0].startswith("n/a"):
        # Not served yet: the tile says so instead of inventing a figure.
        assert "404" in cache_after[1]
    else:
        _wait_for_change(page, "Cache Hit Rate", cache_before)
    page.close()


def test_magic_link_and_oauth_journeys_in_the_browser(
    stack_with_news: LocalStack, browser: Any
) -> None:
    # Given an anonymous session, When a link is e-mailed and verified, Then the merge report
    # shows the conversion; When Google sign-in is followed, Then the identity is OAuth.
    page = Page(browser, stack_with_news.workbench_url or "")
    page.section("Authentication")
    page.click("Try it")
    page.page.get_by_role("cell", name="anonymous", exact=True).first.wait_for(timeout=WAIT_MS)
    email = page.page.get_by_placeholder("you@example.com")
    email.fill("reader.ui@example.com")
    email.press("Enter")
    page.click("Send link")
    page.text("link valid for")
    page.page.get_by_role("cell", name="reader.ui@example.com").first.wait_for(timeout=WAIT_MS)
    page.click("Verify link")
    page.text("Merge report")
    page.text("upgraded")
    page.page.get_by_role("cell", name="email", exact=True).first.wait_for(timeout=WAIT_MS)
    page.click("Sign in with Google")
    page.text("code and state exchanged for a session")
    page.page.get_by_role("cell", name="oauth", exact=True).first.wait_for(timeout=WAIT_MS)
    page.screenshot("authentication")
    page.close()


def _wait_for_change(page: Page, label: str, before: tuple[str, str]) -> tuple[str, str]:
    """The tile's text once it differs from `before` (the page refreshes it on a period)."""
    for _ in range(60):
        now = page.tile(label)
        if now != before:
            return now
        page.page.wait_for_timeout(500)
    raise AssertionError(f"the {label} tile stayed at {before[0]!r}")


def test_the_link_in_the_email_asks_then_signs_in(
    stack_with_news: LocalStack, browser: Any
) -> None:
    # Given a link sent by the API, When the person opens it (the workbench with
    # `?magic_token=`), Then the page asks "sign in as <masked address>?" and signs in only
    # after the click (a link sent by someone else must not sign anyone in on its own).
    assert stack_with_news.api is not None and stack_with_news.sendgrid is not None
    address = "link.opener@example.com"
    sent = httpx.post(f"{stack_with_news.api.url}/api/v2/auth/magic-link", json={"email": address})
    assert sent.status_code == 202, sent.text
    outbox = httpx.get(f"{stack_with_news.sendgrid.url}/_emulator/outbox", params={"to": address})
    link = re.search(r"http://\S+magic_token=\S+", outbox.json()[-1]["text"])
    assert link is not None
    page = Page(browser, link.group(0))
    page.text(f"Sign in as {mask_address(address)}?")
    assert page.page.get_by_text("Merge report").count() == 0
    page.click("Yes, sign me in")
    page.text("Merge report")
    page.page.get_by_role("cell", name="email", exact=True).first.wait_for(timeout=WAIT_MS)
    page.page.get_by_role("cell", name=address).first.wait_for(timeout=WAIT_MS)
    page.close()

"""Whatever a person or the API typed reaches the page as text: never as a tag, a link or
Markdown formatting. Checked on the HTML Panel's own Markdown pipeline makes of each pane."""

from __future__ import annotations

import html
import re

import httpx
import panel as pn
import pytest

from tests.unit.workbench.emulated import SENDGRID_KEY
from tests.unit.workbench.loop import run
from tests.unit.workbench.memory_api import SENDGRID, MemoryApi
from workbench.client import ApiClient, Problem
from workbench.components.configurations import ConfigurationsPanel
from workbench.components.format import md_code, md_text, problem_markdown
from workbench.components.magic_link import MagicLinkPanel
from workbench.components.session import SessionPanel
from workbench.stores.configurations import ConfigurationsStore
from workbench.stores.magic_link import MagicLinkStore
from workbench.stores.schema import SchemaStore
from workbench.stores.session import SessionStore

pytestmark = pytest.mark.unit

XSS = "<img src=x onerror=alert(1)>"
MARKDOWN = "**loud** [click](https://evil.example) | `x` # $1"
# The page's own markup (bold, code, small) is expected; tags and links from a value are not, and
# the value's Markdown must come out character for character.
TAG = re.compile(r"<(img|script|a|b|iframe)\b", re.IGNORECASE)


def rendered(markdown: str) -> str:
    """The HTML the page receives for `markdown` (Panel escapes it once for transport)."""
    pane = pn.pane.Markdown(markdown)
    return html.unescape(pane._transform_object(markdown)["object"])


def visible(markdown: str) -> str:
    """The text a reader sees: the rendered HTML without its tags, entities resolved."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered(markdown)))


def assert_inert(markdown: str, *values: str) -> None:
    page = rendered(markdown)
    assert not TAG.search(page), page
    for value in values:
        assert value in visible(markdown), (value, page)


@pytest.mark.parametrize("value", [XSS, MARKDOWN, "line one\nline two", "a\\b", "&amp; &lt;"])
def test_text_and_code_escapes_render_the_value_literally(value: str) -> None:
    flat = " ".join(value.splitlines())
    assert_inert(f"before {md_text(value)} after", flat)
    assert_inert(f"| a |\n|---|\n| {md_text(value)} |", flat)
    assert_inert(f"code {md_code(value)}", flat)
    assert_inert(f"| a |\n|---|\n| {md_code(value, cell=True)} |", flat)


def test_a_configuration_name_is_shown_as_text(api: MemoryApi, client: ApiClient) -> None:
    # Given a configuration whose name is an HTML tag, and one whose name is Markdown
    session = SessionStore(client)
    api.reconfigure(max_configs_anonymous=2)
    store = ConfigurationsStore(client, session=session)
    panel = ConfigurationsPanel(store=store, schema=SchemaStore(client))
    run(session.start_anonymous())
    for name in (XSS, "**loud** [x](https://evil.example)"):
        store.config_name = name
        run(store.create())

    # When the list and the last change's notice are rendered
    summaries = [row[0].object for row in panel.listing()[1:]]

    # Then each name is there, character for character, and nothing it holds is markup
    assert len(summaries) == 2
    assert_inert(summaries[0], XSS)
    assert_inert(summaries[1], "**loud** [x](https://evil.example)")
    assert_inert(panel.outcome(), "**loud** [x](https://evil.example)")


def test_e_mail_addresses_and_subjects_are_shown_as_text(api: MemoryApi, client: ApiClient) -> None:
    session = SessionStore(client)
    magic = MagicLinkStore(client, lambda: SENDGRID, session=session)
    panel = MagicLinkPanel(store=magic)
    # Given a message in SendGrid's mailbox to an address that is markup (without a space:
    # SendGrid would refuse one) and with a subject that is Markdown
    hostile = "<script>alert(1)</script>@example.com"
    mail = {
        "personalizations": [{"to": [{"email": hostile}]}],
        "from": {"email": "someone@example.com"},
        "subject": MARKDOWN,
        "content": [{"type": "text/plain", "value": "no link"}],
    }
    headers = {"authorization": f"Bearer {SENDGRID_KEY}"}
    sent = api.handle(httpx.Request("POST", f"{SENDGRID}/v3/mail/send", json=mail, headers=headers))
    assert sent.status_code == 202
    run(magic.read_outbox())
    assert_inert(panel.outbox(), hostile, MARKDOWN)

    session.param.update(user_id="u-1", email=f"{XSS}@example.com", auth_type="email")
    assert_inert(SessionPanel(session=session).identity(), f"{XSS}@example.com")


def test_an_error_message_is_shown_as_text() -> None:
    problem = Problem(400, "INVALID_CONFIGURATION", f"unknown ticker(s): {XSS}", "tickers")
    assert_inert(problem_markdown(problem), f"unknown ticker(s): {XSS}")


def test_the_sign_in_question_shows_the_hint_as_text(client: ApiClient) -> None:
    magic = MagicLinkStore(client, lambda: None, session=SessionStore(client))
    panel = MagicLinkPanel(store=magic)
    assert not panel.confirmation.visible
    magic.pending_hint = "<b>re***r</b>@example.com"
    assert panel.confirmation.visible
    assert_inert(panel.question(), "Sign in as <b>re***r</b>@example.com?")

"""The page's wiring: one set of stores per session, and sign-ins the URL brings back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.settings import Settings
from tests.unit.workbench.loop import run
from tests.unit.workbench.memory_api import SENDGRID, MemoryApi, location_query
from workbench.app import Stores
from workbench.local_stack import StackFiles

pytestmark = pytest.mark.unit


def stores(api: MemoryApi, state: Path) -> Stores:
    (state / "stack.json").write_text(json.dumps({"sendgrid_url": SENDGRID}))
    (state / "operator-token").write_text(api.operator_token + "\n")
    settings = Settings(local_state_dir=str(state))
    return Stores.build(api.client(), StackFiles.from_settings(settings), settings)


def test_first_load_reads_the_document_and_the_tiles(api: MemoryApi, tmp_path: Path) -> None:
    api.ops_routes = True
    page = stores(api, tmp_path)
    run(page.start(None, None, None))
    assert page.schema.ranges == ["1W", "1M", "3M", "6M", "1Y"]
    assert page.live.health.status == "healthy"
    assert page.live.ops.circuits_status == "live"
    assert not page.session.signed_in


def test_a_magic_link_in_the_url_asks_before_signing_in(api: MemoryApi, tmp_path: Path) -> None:
    # Given a page opened with a link (possibly sent by someone else, for their account)
    page = stores(api, tmp_path)
    run(page.client.request_magic_link("reader@example.com", None))
    (token,) = api.sent_links()

    # When it loads, Then nobody is signed in: it asks, naming the masked address
    run(page.start(token, None, None))
    assert not page.session.signed_in
    assert page.magic_link.pending_hint == "re***r@example.com"
    assert api.link_unused(token)

    # When the person confirms, Then the link is used and the page is signed in
    run(page.magic_link.confirm_link())
    assert (page.session.auth_type, page.session.email) == ("email", "reader@example.com")
    assert page.magic_link.merge["mode"] == "none" and page.magic_link.pending_hint == ""


def test_a_magic_link_that_is_not_mine_is_dismissed_unused(api: MemoryApi, tmp_path: Path) -> None:
    page = stores(api, tmp_path)
    run(page.client.request_magic_link("attacker@example.com", None))
    (token,) = api.sent_links()
    run(page.start(token, None, None))

    page.magic_link.dismiss_link()
    run(page.magic_link.confirm_link())

    assert not page.session.signed_in and page.magic_link.pending_hint == ""
    assert api.link_unused(token)


def test_an_oauth_code_started_elsewhere_is_refused_on_load(api: MemoryApi, tmp_path: Path) -> None:
    # Given a code and state from a sign-in this page did not start (an attacker's)
    page = stores(api, tmp_path)
    urls = run(page.client.oauth_urls(None))
    redirect = run(page.client.authorize(urls.body["providers"]["google"]["authorize_url"]))
    query = {k: v[0] for k, v in location_query(redirect.headers["location"]).items()}

    # When the page is opened with them, Then it is not signed in and says why
    run(page.start(None, query["code"], query["state"]))
    assert not page.session.signed_in
    assert page.oauth.problem is not None and page.oauth.problem.code == "STATE_MISMATCH"


def test_the_stores_share_one_client_and_one_session(api: MemoryApi, tmp_path: Path) -> None:
    page = stores(api, tmp_path)
    assert page.configurations.session is page.session is page.oauth.session
    assert page.sentiment.configurations is page.configurations is page.overlay.configurations
    assert page.live.health.client is page.client

"""Sign-in journeys at the param level: anonymous, magic link, OAuth, sign-out."""

from __future__ import annotations

import pytest

from tests.unit.workbench.loop import run
from tests.unit.workbench.memory_api import SENDGRID, MemoryApi, location_query
from workbench.client import ApiClient
from workbench.stores.magic_link import MagicLinkStore, link_token
from workbench.stores.oauth import OAuthStore, shown_url
from workbench.stores.session import SessionStore

pytestmark = pytest.mark.unit


def test_anonymous_session_reads_identity_and_limits(api: MemoryApi, client: ApiClient) -> None:
    # When "Try it" starts an anonymous session, Then /auth/me fills identity and limits,
    # and the call shown keeps the token masked.
    session = SessionStore(client)
    run(session.start_anonymous())
    assert session.signed_in and session.auth_type == "anonymous"
    assert session.limits["max_configurations"] == api.max_anonymous
    assert session.limits_seen == {"anonymous": api.max_anonymous}
    token = session.bearer
    assert token is not None
    shown = session.last_call["body"]["token"]
    assert token not in shown and shown.endswith("(43 chars)")
    assert session.last_call["status"] == 201


def test_listeners_hear_every_change_of_identity(client: ApiClient) -> None:
    session = SessionStore(client)
    heard: list[str] = []

    async def listener() -> None:
        heard.append(session.auth_type)

    session.subscribe(listener)
    run(session.start_anonymous())
    run(session.sign_out())
    assert heard == ["anonymous", ""]
    assert session.generation == 2 and session.bearer is None and not session.signed_in


def test_a_revoked_token_signs_the_page_out(api: MemoryApi, client: ApiClient) -> None:
    session = SessionStore(client)
    run(session.start_anonymous())
    api.revoke_every_session()
    run(session.refresh_me())
    assert not session.signed_in and session.problem is not None
    assert session.problem.status == 401


def test_magic_link_converts_the_anonymous_session(api: MemoryApi, client: ApiClient) -> None:
    # Given an anonymous session with a configuration, When a link is sent, read from the
    # outbox and verified, Then the account is signed in and the merge report says "upgraded".
    session = SessionStore(client)
    magic = MagicLinkStore(client, lambda: SENDGRID, session=session)
    run(session.start_anonymous())
    anonymous_id = session.user_id
    run(client.create_configuration(session.bearer or "", "Tech", ["AAPL"]))
    magic.email = "Ann@Example.com"
    run(magic.request_link())
    assert magic.sent["status"] == 202
    assert [m["to"] for m in magic.outbox] == ["ann@example.com"]
    assert magic.outbox[0]["link"].startswith("?magic_token=")
    (sent,) = api.hosts.sendgrid.outbox()
    token = magic.latest_token()
    assert token is not None and f"magic_token={token}" in str(sent.text)
    run(magic.verify())
    assert magic.merge == {
        "mode": "upgraded",
        "from_user_id": anonymous_id,
        "configurations_moved": 1,
        "configurations_not_moved": 0,
    }
    assert (session.auth_type, session.email) == ("email", "ann@example.com")
    assert session.limits_seen == {"anonymous": api.max_anonymous, "account": api.max_account}


def test_verifying_with_no_link_explains_itself(client: ApiClient) -> None:
    magic = MagicLinkStore(client, lambda: SENDGRID, session=SessionStore(client))
    magic.email = "nobody@example.com"
    run(magic.verify())
    assert magic.problem is not None and magic.problem.code == "NO_LINK"


def test_a_used_link_shows_the_api_message(api: MemoryApi, client: ApiClient) -> None:
    magic = MagicLinkStore(client, lambda: SENDGRID, session=SessionStore(client))
    run(magic.verify("not-a-real-token"))
    assert magic.problem is not None
    assert (magic.problem.status, magic.problem.message) == (
        400,
        "the sign-in link is not valid; ask for a new one",
    )


def test_the_outbox_needs_the_emulator(client: ApiClient) -> None:
    magic = MagicLinkStore(client, lambda: None, session=SessionStore(client))
    run(magic.read_outbox())
    assert "sendgrid_url" in magic.outbox_note


def test_link_token_is_read_from_the_first_link() -> None:
    text = "Open http://h/app?x=1&magic_token=abc def\nor http://h/app?magic_token=zzz"
    assert link_token(text) == "abc"
    assert link_token("no link here") is None


def test_oauth_follows_the_provider_and_converts(api: MemoryApi, client: ApiClient) -> None:
    # Given an anonymous session, When OAuth is followed server-side with a login hint,
    # Then three steps are shown and the session is the OAuth account, anonymous data merged.
    session = SessionStore(client)
    oauth = OAuthStore(client, session=session)
    run(session.start_anonymous())
    oauth.login_hint = "oa@example.com"
    run(oauth.sign_in())
    assert [s["status"] for s in oauth.steps] == [200, 302, 200]
    assert oauth.problem is None and oauth.merge["mode"] == "upgraded"
    assert (session.auth_type, session.email) == ("oauth", "oa@example.com")
    # The redirect is described, never shown with its code and state.
    assert oauth.steps[1]["detail"] == "redirected to /app with code and state"


def test_oauth_landing_from_another_browser_is_refused(api: MemoryApi, client: ApiClient) -> None:
    # A page opened with `?code=&state=` of a sign-in it did not start holds no binding for
    # that state: the API refuses it (login CSRF), and nobody is signed in.
    urls = run(client.oauth_urls(None))
    authorize = urls.body["providers"]["google"]["authorize_url"]
    redirect = run(client.authorize(authorize))
    query = {k: v[0] for k, v in location_query(redirect.headers["location"]).items()}
    session = SessionStore(client)
    oauth = OAuthStore(client, session=session)
    run(oauth.complete(query["code"], query["state"]))
    assert oauth.problem is not None and oauth.problem.code == "STATE_MISMATCH"
    assert not session.signed_in


def test_oauth_without_a_session_sends_back_its_binding(api: MemoryApi, client: ApiClient) -> None:
    # Started by this page without a session: the binding of the URLs' answer, kept by the
    # store, finishes it.
    session = SessionStore(client)
    oauth = OAuthStore(client, session=session)
    oauth.login_hint = "solo@example.com"
    run(oauth.sign_in())
    assert oauth.problem is None and oauth.merge["mode"] == "none"
    assert (session.auth_type, session.email) == ("oauth", "solo@example.com")
    assert all("binding" not in str(value) for value in oauth.param.values().values())


def test_an_oauth_state_from_another_session_is_refused(api: MemoryApi, client: ApiClient) -> None:
    session = SessionStore(client)
    oauth = OAuthStore(client, session=session)
    run(oauth.complete("code", "unknown-state"))
    assert oauth.problem is not None and oauth.problem.code == "INVALID_STATE"
    assert not session.signed_in


def test_shown_url_masks_one_time_values() -> None:
    shown = shown_url("http://h/p?client_id=c&state=abcdefghijkl&nonce=n1234567")
    assert shown.startswith("http://h/p?client_id=c&state=abcdef… (12 chars)")
    assert "abcdefghijkl" not in shown and "n1234567" not in shown

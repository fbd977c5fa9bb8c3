"""The running stack driven as an anonymous attacker would, with the default per-caller
allowances: sign-in e-mails asked for in bulk (per client address, per recipient, across
addresses until the sign-in share is spent), a walk over every ticker, range and candle size of
the price route without a session and with one, random bearers with bad bodies, floods of
unknown paths, oversized and malformed requests. What the providers' emulators counted is the
proof that no shared quota moved past its bound; every request gets an answer, none a 5xx, and
the table grows by a bounded number of items.

Each test calls from loopback addresses of its own (127.0.0.x: Linux answers the whole
127/8), so the per-address counts of one test never reach another's."""

from __future__ import annotations

import contextlib
import re
import socket
import time
import uuid
from collections.abc import Iterator
from itertools import product
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from services.local.stack import LocalStack
from services.market.ranges import PRICE_RESOLUTIONS, RANGES
from services.settings import Settings
from tests.e2e.api_support import (
    MAGIC_LINK,
    error_code,
    function_instance,
    news_stack,
    operator_headers,
    outbox,
    snapshot,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

# SendGrid's day in this stack (paid plan): the sign-in share is a tenth of it, 50.
EMAILS_PER_DAY = 500
SIGN_IN_SHARE = EMAILS_PER_DAY // 10
DEFAULTS = Settings()
PER_RECIPIENT = DEFAULTS.sign_in_emails_per_recipient_per_hour
PER_CLIENT = DEFAULTS.sign_in_emails_per_client_per_hour
PER_SESSION = DEFAULTS.price_fetches_per_session_per_hour
PER_ADDRESS = DEFAULTS.price_fetches_per_client_per_hour
# 6 tickers x 5 ranges x 6 candle sizes: 180 requests, 120 different answers (a range too
# long for small candles is served as the longest they allow).
TICKERS = ("AAPL", "MSFT", "NVDA", "JPM", "AMZN", "META")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[LocalStack]:
    settings = Settings(
        sendgrid_plan="paid",
        sendgrid_paid_daily_limit=EMAILS_PER_DAY,
        default_watchlist=",".join(TICKERS[:2]),
    )
    with news_stack(
        root, tmp_path_factory.mktemp("state"), settings, default_allowances=True
    ) as running:
        yield running


def caller(stack: LocalStack, address: str) -> httpx.Client:
    """A client whose requests come from `address` (a loopback address)."""
    assert stack.api is not None
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=stack.api.url, timeout=60, transport=transport)


def provider_requests(url: str) -> int:
    """Every request the provider's emulator was sent since it started."""
    response = httpx.get(f"{url}/_emulator/usage", timeout=10)
    assert response.status_code == 200, response.text
    return int(response.json()["requests"])


def sendgrid_requests(stack: LocalStack) -> int:
    assert stack.sendgrid is not None
    return provider_requests(stack.sendgrid.url)


def tiingo_requests(stack: LocalStack) -> int:
    assert stack.pipeline is not None and stack.pipeline.tiingo is not None
    return provider_requests(stack.pipeline.tiingo.root_url)


def quota_used(stack: LocalStack, provider: str, name: str) -> int:
    """What our own quota tracker counted for one of a provider's quotas."""
    assert stack.api is not None
    response = httpx.get(
        f"{stack.api.url}/api/v2/ops/quotas", headers=operator_headers(stack), timeout=30
    )
    assert response.status_code == 200, response.text
    limits = {q["name"]: q for q in response.json()["quotas"][provider]["limits"]}
    return int(limits[name]["used"])


def ask_for_link(client: httpx.Client, address: str) -> httpx.Response:
    return client.post("/api/v2/auth/magic-link", json={"email": address})


def assert_limited(response: httpx.Response, limit: str) -> None:
    """429 `RATE_LIMITED` with `Retry-After` (within the hour), naming the limit."""
    assert response.status_code == 429, response.text
    assert error_code(response) == "RATE_LIMITED"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 3600
    details = response.json()["error"]["details"]
    assert details["limit"] == limit and details["retry_after_s"] == retry_after


def answer_shape(response: httpx.Response) -> tuple[Any, ...]:
    """A response without the seconds it names (they move between two requests)."""
    body = re.sub(r"\d+ s\b", "N s", response.text)
    body = re.sub(r'"retry_after_s":\s*\d+', '"retry_after_s":N', body)
    return response.status_code, body, "Retry-After" in response.headers


# --- sign-in e-mails ------------------------------------------------------------------------


def test_a_hundred_requests_from_one_address_send_at_most_its_hourly_limit(stack) -> None:
    sent_before = sendgrid_requests(stack)
    with caller(stack, "127.0.0.2") as attacker:
        answers = [ask_for_link(attacker, f"victim{n}@example.com") for n in range(100)]

    assert [a.status_code for a in answers] == [202] * PER_CLIENT + [429] * (100 - PER_CLIENT)
    assert_limited(answers[-1], "sign_in_emails_per_client")
    assert "network address" in answers[-1].json()["error"]["message"]
    assert sendgrid_requests(stack) - sent_before == PER_CLIENT


def test_one_recipient_gets_at_most_its_hourly_links_whoever_asks(stack) -> None:
    victim = "inbox-owner@example.com"
    answers = []
    for address in ("127.0.0.3", "127.0.0.4"):
        with caller(stack, address) as attacker:
            answers += [ask_for_link(attacker, victim) for _ in range(4)]

    statuses = [a.status_code for a in answers]
    assert statuses == [202] * PER_RECIPIENT + [429] * (8 - PER_RECIPIENT)
    assert_limited(answers[-1], "sign_in_emails_per_recipient")
    assert "to this address" in answers[-1].json()["error"]["message"]
    assert len(outbox(stack, victim)) == PER_RECIPIENT


def test_the_answers_do_not_say_whether_the_address_has_an_account(stack) -> None:
    member, stranger = "member@example.com", "stranger@example.com"
    with caller(stack, "127.0.0.5") as client:
        # The member signs in once (one link asked for); the stranger's address is asked once.
        assert ask_for_link(client, member).status_code == 202
        token = MAGIC_LINK.search(outbox(stack, member)[-1]["text"]).group(1)  # type: ignore[union-attr]
        verified = client.post("/api/v2/auth/magic-link/verify", json={"token": token})
        assert verified.status_code == 200, verified.text
        assert ask_for_link(client, stranger).status_code == 202
    # With the same history, the same requests get the same answers.
    with caller(stack, "127.0.0.6") as one, caller(stack, "127.0.0.7") as other:
        for_member = [answer_shape(ask_for_link(one, member)) for _ in range(PER_RECIPIENT)]
        for_stranger = [answer_shape(ask_for_link(other, stranger)) for _ in range(PER_RECIPIENT)]

    assert for_member == for_stranger
    assert [shape[0] for shape in for_member] == [202] * (PER_RECIPIENT - 1) + [429]


def test_sign_in_emails_never_spend_more_than_their_share_of_the_day(stack) -> None:
    # Enough callers, each within its own hourly limit, to ask for more than the share.
    answers = []
    for n in range(SIGN_IN_SHARE // 10 + 1):
        with caller(stack, f"127.0.1.{n + 1}") as attacker:
            answers += [ask_for_link(attacker, f"flood{n}-{i}@example.com") for i in range(10)]

    refused = [a for a in answers if a.status_code == 503]
    assert refused and error_code(refused[-1]) == "QUOTA_EXHAUSTED"
    assert int(refused[-1].headers["Retry-After"]) >= 1
    assert {a.status_code for a in answers} == {202, 503}
    # Every sign-in e-mail of the day (the other tests' too) is within the share, and the
    # provider was asked for no more than that: the other 90 % are the alerts' and digests'.
    assert quota_used(stack, "sendgrid", "requests_per_day") == SIGN_IN_SHARE
    assert sendgrid_requests(stack) == SIGN_IN_SHARE


# --- prices ---------------------------------------------------------------------------------


def walk(client: httpx.Client, headers: dict[str, str] | None = None) -> list[httpx.Response]:
    """Every ticker x range x candle size, once."""
    return [
        client.get(
            f"/api/v2/tickers/{ticker}/ohlc",
            params={"range": range_name, "resolution": resolution},
            headers=headers,
        )
        for ticker, range_name, resolution in product(TICKERS, RANGES, PRICE_RESOLUTIONS)
    ]


def session(client: httpx.Client) -> dict[str, str]:
    response = client.post("/api/v2/auth/anonymous")
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_walking_every_price_without_a_session_costs_tiingo_nothing(stack) -> None:
    before = tiingo_requests(stack)
    with caller(stack, "127.0.2.1") as anonymous:
        answers = walk(anonymous)

    assert tiingo_requests(stack) == before
    uncached = [a for a in answers if a.status_code != 200]
    assert uncached and {a.status_code for a in uncached} == {401}
    assert error_code(uncached[0]) == "UNAUTHORIZED"
    assert "POST /api/v2/auth/anonymous" in uncached[0].json()["error"]["message"]


def test_one_session_makes_tiingo_fetch_at_most_its_hourly_allowance(stack) -> None:
    before = tiingo_requests(stack)
    with caller(stack, "127.0.2.2") as client:
        answers = walk(client, session(client))
        fetched = tiingo_requests(stack) - before
        # What it fetched is cached for everyone: the same walk without a session is
        # answered from the caches for those, and costs Tiingo nothing more.
        anonymous = walk(client)

    assert fetched == PER_SESSION
    statuses = [a.status_code for a in answers]
    assert set(statuses) == {200, 429}
    assert_limited(answers[statuses.index(429)], "price_fetches_per_session")
    assert "for this session" in answers[statuses.index(429)].json()["error"]["message"]
    assert tiingo_requests(stack) - before == PER_SESSION
    served = [a for a in anonymous if a.status_code == 200]
    assert len(served) >= PER_SESSION and all(a.headers["X-Cache"] == "hit" for a in served)


def test_one_address_makes_tiingo_fetch_at_most_its_hourly_allowance(stack) -> None:
    before = tiingo_requests(stack)
    with caller(stack, "127.0.2.3") as client:
        walks = [walk(client, session(client)) for _ in range(PER_ADDRESS // PER_SESSION + 1)]

    assert tiingo_requests(stack) - before <= PER_ADDRESS
    refused = [a for a in walks[-1] if a.status_code == 429]
    assert refused, "the last session met the address's allowance"
    assert_limited(refused[0], "price_fetches_per_client")


# --- floods and malformed requests -----------------------------------------------------------


def no_server_error(answers: list[httpx.Response]) -> None:
    failed = [(a.request.method, a.request.url.path, a.status_code) for a in answers]
    assert not [f for f in failed if f[2] >= 500], [f for f in failed if f[2] >= 500]


def test_random_bearers_with_bad_bodies_are_counted_and_refused(stack) -> None:
    # Another function instance with the default request limits, on the same table: a made-up
    # bearer with a broken body is counted like any request, before any table read.
    assert stack.settings is not None
    limits = Settings()
    defaults = {
        "rate_limit_per_identity": limits.rate_limit_per_identity,
        "rate_limit_per_ip": limits.rate_limit_per_ip,
    }
    flood = limits.rate_limit_per_ip + 100
    before = len(snapshot(stack))
    started = time.monotonic()
    with function_instance(stack.settings.model_copy(update=defaults)) as http:
        answers = [
            http.post(
                "/api/v2/configurations",
                headers={
                    "Authorization": f"Bearer {uuid.uuid4().hex}",
                    "Content-Type": "application/json",
                },
                content=b'{"name": ' if n % 2 else b'{"tickers": 7}',
            )
            for n in range(flood)
        ]
        elapsed_s = time.monotonic() - started

    no_server_error(answers)
    assert len(answers) == flood
    statuses = {a.status_code for a in answers}
    assert statuses <= {400, 401, 422, 429}, statuses
    # Counted, so refused past the address's limit: what was let through is what the sliding
    # windows the flood spanned allow, and the rest got 429.
    admitted = sum(a.status_code != 429 for a in answers)
    assert admitted <= limits.rate_limit_per_ip * (1 + elapsed_s / limits.rate_limit_window_s)
    assert admitted < flood
    assert all(error_code(a) == "RATE_LIMITED" for a in answers if a.status_code == 429)
    # Made-up bearers create nothing: at most the limiter's count windows were written.
    assert len(snapshot(stack)) - before <= 5


def test_a_flood_of_unknown_paths_is_answered_and_keeps_the_table_bounded(stack) -> None:
    before = len(snapshot(stack))
    with caller(stack, "127.0.3.1") as attacker:
        answers = [attacker.get(f"/api/v2/{uuid.uuid4().hex}/{n}") for n in range(400)]
        answers += [attacker.delete(f"/{uuid.uuid4().hex}") for _ in range(100)]
        # The instance's request minutes are written by the metrics run: one route for all.
        run = attacker.post("/api/v2/ops/metrics/run", headers=operator_headers(stack))
    assert run.status_code in (200, 202), run.text

    no_server_error(answers)
    assert {a.status_code for a in answers} <= {404, 405}
    assert all(error_code(a) in ("NOT_FOUND", "METHOD_NOT_ALLOWED") for a in answers)
    grown = len(snapshot(stack)) - before
    assert grown <= 10, f"500 requests to unknown paths grew the table by {grown} items"


MALFORMED = {
    "negative length": b"POST /api/v2/auth/anonymous HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: -1\r\n\r\n",
    "non-numeric length": b"POST /api/v2/auth/anonymous HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: ten\r\n\r\n",
    "oversized": b"POST /api/v2/auth/magic-link HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: application/json\r\nContent-Length: 7340032\r\n\r\n{",
    "oversized chunked": b"POST /api/v2/auth/magic-link HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"700000\r\n" + b" " * 0x700000 + b"\r\n0\r\n\r\n",
    "invalid utf-8": b"POST /api/v2/auth/magic-link HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: application/json\r\nContent-Length: 4\r\n\r\n\xff\xfe{}",
    "undeclared method": b"TRACE /api/v2/configurations HTTP/1.1\r\nHost: x\r\n\r\n",
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_oversized_and_malformed_requests_get_an_answer(stack, kind: str) -> None:
    assert stack.api is not None
    where = urlsplit(stack.api.url)
    with socket.create_connection((where.hostname, where.port), timeout=30) as connection:
        # The server may answer (and close) before the whole body was sent.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(MALFORMED[kind])
        head = read_head(connection)

    assert head, f"{kind}: the connection closed without an answer"
    status = int(head.split(b" ", 2)[1])
    assert 400 <= status < 500, head.decode(errors="replace")
    assert b"x-correlation-id:" in head.lower(), f"{kind}: no correlation ID"
    expected = {"oversized": 413, "oversized chunked": 413, "undeclared method": 405}
    if kind in expected:
        assert status == expected[kind]


def read_head(connection: socket.socket) -> bytes:
    """The answer's status line and headers, or b"" when none came."""
    received = b""
    try:
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return received.partition(b"\r\n\r\n")[0]

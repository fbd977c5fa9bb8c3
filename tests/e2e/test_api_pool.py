"""The pool of execution environments behind the local Function URL, on its own: the event
each request becomes, the answers the pool makes itself (always the API's envelope with a
correlation ID), the function's timeout, and one request per environment at a time."""

from __future__ import annotations

import base64
import http.client
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from services.local.api_pool import ApiPool
from services.local.function_url_event import MAX_BODY_BYTES
from services.settings import Settings
from tests.e2e.api_support import error_code, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

ECHO = "tests.e2e.pool_handlers:build_echo"
TIMEOUT_S = 3


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiPool]:
    state = tmp_path_factory.mktemp("pool")
    running = ApiPool(
        ECHO, workers=2, timeout_s=TIMEOUT_S, state_dir=state, log_file=state / "api.log"
    ).start(Settings())
    try:
        yield running
    finally:
        running.stop()


def raw_exchange(pool: ApiPool, request: bytes) -> httpx.Response:
    host, port = pool.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)
        answer = http.client.HTTPResponse(connection)
        answer.begin()
        return httpx.Response(answer.status, headers=answer.getheaders(), content=answer.read())


def test_each_environment_reports_its_cold_start_and_pid(pool: ApiPool) -> None:
    environments = pool.environments()

    assert len(environments) == 2 and len({e["pid"] for e in environments}) == 2
    assert all(e["cold_start_ms"] > 0 and e["busy"] is False for e in environments)


def test_repeated_headers_are_joined_and_cookies_listed(pool: ApiPool) -> None:
    response = httpx.get(
        f"{pool.url}/path?a=1&a=2",
        headers=[("X-Tag", "one"), ("X-Tag", "two"), ("Cookie", "a=1; b=2"), ("Cookie", "c=3")],
    )

    event = response.json()
    assert event["headers"]["x-tag"] == "one,two"
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["rawPath"] == "/path" and event["version"] == "2.0"


def test_a_chunked_body_reaches_the_function_whole(pool: ApiPool) -> None:
    response = httpx.post(
        f"{pool.url}/x",
        content=iter([b'{"config_id": ', b'"c1"}']),
        headers={"Content-Type": "application/json"},
    )

    assert response.json()["body"] == '{"config_id": "c1"}'


def test_a_body_that_is_not_utf8_reaches_the_function_base64_encoded(pool: ApiPool) -> None:
    response = httpx.post(
        f"{pool.url}/x", content=b'"\xff"', headers={"Content-Type": "application/json"}
    )

    event = response.json()
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b'"\xff"'


def test_a_body_over_six_mb_is_a_413_envelope_with_the_callers_correlation_id(
    pool: ApiPool,
) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // (1024 * 1024) + 1):
            yield b" " * (1024 * 1024)

    declared = httpx.post(f"{pool.url}/x", content=b"x" * (MAX_BODY_BYTES + 1))
    chunked = httpx.post(f"{pool.url}/x", content=chunks(), headers={"X-Correlation-ID": "big-1"})

    for response in (declared, chunked):
        assert response.status_code == 413 and error_code(response) == "PAYLOAD_TOO_LARGE"
    assert chunked.headers["X-Correlation-ID"] == "big-1"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GET / HTTP/1.1 extra\r\n\r\n", 400),
        (b"brew /pot HTTP/1.1\r\nHost: local\r\n\r\n", 400),
        (
            b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\nX-Correlation-ID: f-1\r\n\r\n",
            400,
        ),
        (b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    ],
    ids=["bad request line", "lower-case method", "negative length", "gzip", "bad chunk"],
)
def test_what_the_server_refuses_itself_is_an_envelope_not_html(
    pool: ApiPool, raw: bytes, status: int
) -> None:
    response = raw_exchange(pool, raw)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert error_code(response) in ("MALFORMED_REQUEST", "UNSUPPORTED_TRANSFER_ENCODING")
    assert response.headers["x-correlation-id"]
    if b"f-1" in raw:
        assert response.headers["x-correlation-id"] == "f-1"


def test_a_crashing_function_is_a_502_envelope(pool: ApiPool) -> None:
    response = httpx.get(f"{pool.url}/crash", headers={"X-Correlation-ID": "crash-1"})

    assert response.status_code == 502 and error_code(response) == "BAD_GATEWAY"
    assert response.headers["X-Correlation-ID"] == "crash-1"


def test_a_request_over_the_timeout_is_a_504_and_its_environment_is_replaced(
    pool: ApiPool,
) -> None:
    # Given two environments, When a request runs past the function's timeout
    before = {e["pid"] for e in pool.environments()}
    response = httpx.get(
        f"{pool.url}/sleep", headers={"X-Correlation-ID": "slow-1"}, timeout=TIMEOUT_S + 30
    )

    # Then it is answered 504 in the envelope, and a new environment takes the old one's place
    assert response.status_code == 504 and error_code(response) == "GATEWAY_TIMEOUT"
    assert response.headers["X-Correlation-ID"] == "slow-1"
    wait_for(
        "a new environment",
        lambda: len(now := {e["pid"] for e in pool.environments()}) == 2 and now != before,
    )
    assert httpx.get(f"{pool.url}/after").status_code == 200


def test_one_environment_serves_one_request_at_a_time(pool: ApiPool) -> None:
    # Given one environment held by a request that sleeps
    with ThreadPoolExecutor(max_workers=1) as background:
        held = background.submit(httpx.get, f"{pool.url}/sleep", timeout=TIMEOUT_S + 30)
        wait_for("an environment to be busy", lambda: any(e["busy"] for e in pool.environments()))
        # When others ask meanwhile, Then the other environment answers them all
        answers = [httpx.get(f"{pool.url}/quick-{n}", timeout=30) for n in range(5)]
        assert [a.status_code for a in answers] == [200] * 5
        assert not held.done()
        assert held.result().status_code == 504


def test_stopping_frees_the_port(tmp_path: Path) -> None:
    pool = ApiPool(ECHO, workers=1, state_dir=tmp_path).start(Settings())
    host, port = pool.url.removeprefix("http://").split(":")
    pool.stop()

    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, int(port)))  # nothing holds it any more
    assert not list(tmp_path.glob("api-pool-*.json"))  # the settings file is gone
    assert pool.environments() == []

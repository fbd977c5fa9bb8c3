"""The local Function URL server over a real socket: how it frames bodies (Content-Length,
chunked, the 6 MB cap), and that whatever it answers itself is the API's envelope with a
correlation ID, never a dropped connection or an HTML page."""

from __future__ import annotations

import base64
import http.client
import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from services.local.function_url import MAX_BODY_BYTES, FunctionUrlServer

pytestmark = pytest.mark.unit

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass
class RecordingFunction:
    """Answers 200 with what it was called with; or raises, when told to."""

    events: list[dict[str, Any]] = field(default_factory=list)
    crash: bool = False

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if self.crash:
            raise RuntimeError("the function broke")
        self.events.append(event)
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{}"}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def error_code(self) -> str:
        envelope = json.loads(self.body)
        assert set(envelope) == {"error"} and envelope["error"]["message"]
        return str(envelope["error"]["code"])


@pytest.fixture
def function() -> RecordingFunction:
    return RecordingFunction()


@pytest.fixture
def server(function: RecordingFunction) -> Iterator[FunctionUrlServer]:
    running = FunctionUrlServer(function, port=0).start()
    yield running
    running.stop()


def exchange(server: FunctionUrlServer, raw: bytes) -> Answer:
    """Sends `raw` as is on a new connection and reads one answer."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(raw)
        response = http.client.HTTPResponse(connection)
        response.begin()
        body = response.read()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, headers, body)


def post(length: str, body: bytes = b"", extra: str = "") -> bytes:
    head = (
        "POST /api/v2/alerts HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n{extra}\r\n"
    )
    return head.encode() + body


def chunked(*chunks: bytes, correlation_id: str = "") -> bytes:
    head = (
        "POST /api/v2/alerts HTTP/1.1\r\nHost: local\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n"
    )
    if correlation_id:
        head += f"X-Correlation-ID: {correlation_id}\r\n"
    framed = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks)
    return head.encode() + b"\r\n" + framed + b"0\r\n\r\n"


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "²", "+5", "5, 6"])
def test_a_content_length_that_is_not_a_whole_number_is_a_400_envelope(
    server: FunctionUrlServer, function: RecordingFunction, length: str
) -> None:
    # Given a request whose body length cannot be known (-1 used to read until the client left)
    # When it is sent
    answer = exchange(server, post(length, b'{"a": 1}'))

    # Then the server answers it itself, in the envelope, and the function is never called
    assert answer.status == 400
    assert answer.error_code() == "MALFORMED_REQUEST"
    assert UUID.match(answer.headers["x-correlation-id"])
    assert answer.headers["connection"] == "close"
    assert function.events == []


def test_two_different_content_lengths_are_refused(server: FunctionUrlServer) -> None:
    answer = exchange(server, post("2", b"{}", extra="Content-Length: 3\r\n"))

    assert answer.status == 400 and answer.error_code() == "MALFORMED_REQUEST"


def test_a_body_shorter_than_its_content_length_is_answered_not_dropped(
    server: FunctionUrlServer,
) -> None:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(post("100", b'{"a"'))
        connection.shutdown(socket.SHUT_WR)  # the client gives up sending
        response = http.client.HTTPResponse(connection)
        response.begin()
        body = response.read()

    assert response.status == 400
    assert json.loads(body)["error"]["code"] == "MALFORMED_REQUEST"


def test_a_chunked_body_reaches_the_function_whole(
    server: FunctionUrlServer, function: RecordingFunction
) -> None:
    answer = exchange(server, chunked(b'{"config_id": ', b'"c1"}'))

    assert answer.status == 200
    assert function.events[0]["body"] == '{"config_id": "c1"}'


def test_a_chunked_body_over_the_cap_is_a_413_with_the_callers_correlation_id(
    server: FunctionUrlServer, function: RecordingFunction
) -> None:
    # Given a body sent in chunks that together pass 6 MB (no Content-Length to check first)
    piece = b"x" * (1024 * 1024)
    raw = chunked(*[piece] * (MAX_BODY_BYTES // len(piece) + 1), correlation_id="trace-413")

    # When it is sent
    answer = exchange(server, raw)

    # Then the server stops reading at the cap and answers 413 itself
    assert answer.status == 413
    assert answer.error_code() == "PAYLOAD_TOO_LARGE"
    assert answer.headers["x-correlation-id"] == "trace-413"
    assert function.events == []


def test_a_declared_length_over_the_cap_is_a_413_with_a_correlation_id(
    server: FunctionUrlServer,
) -> None:
    answer = exchange(server, post(str(MAX_BODY_BYTES + 1)))

    assert answer.status == 413 and answer.error_code() == "PAYLOAD_TOO_LARGE"
    assert UUID.match(answer.headers["x-correlation-id"])


@pytest.mark.parametrize(
    "line",
    [b"zz\r\n", b"-1\r\n", b"\r\n", b"1" * 5000 + b"\r\n"],
    ids=["not hex", "negative", "empty", "too long"],
)
def test_a_malformed_chunk_size_is_a_400_envelope(server: FunctionUrlServer, line: bytes) -> None:
    head = b"POST /api/v2/alerts HTTP/1.1\r\nHost: local\r\nTransfer-Encoding: chunked\r\n\r\n"
    answer = exchange(server, head + line)

    assert answer.status == 400 and answer.error_code() == "MALFORMED_REQUEST"


def test_chunked_and_content_length_together_are_refused(server: FunctionUrlServer) -> None:
    answer = exchange(server, post("2", b"{}", extra="Transfer-Encoding: chunked\r\n"))

    assert answer.status == 400 and answer.error_code() == "MALFORMED_REQUEST"


def test_a_transfer_coding_other_than_chunked_is_a_501_envelope(server: FunctionUrlServer) -> None:
    raw = b"POST /x HTTP/1.1\r\nHost: local\r\nTransfer-Encoding: gzip\r\n\r\n"

    answer = exchange(server, raw)

    assert answer.status == 501 and answer.error_code() == "UNSUPPORTED_TRANSFER_ENCODING"


def test_a_body_that_is_not_utf8_reaches_the_function_base64_encoded(
    server: FunctionUrlServer, function: RecordingFunction
) -> None:
    answer = exchange(server, post("3", b'"\xff"'))

    assert answer.status == 200
    event = function.events[0]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b'"\xff"'


def test_a_crashing_function_is_a_502_envelope_with_the_callers_correlation_id(
    server: FunctionUrlServer, function: RecordingFunction
) -> None:
    function.crash = True
    raw = b"GET /health HTTP/1.1\r\nHost: local\r\nX-Correlation-ID: trace-502\r\n\r\n"

    answer = exchange(server, raw)

    assert answer.status == 502 and answer.error_code() == "BAD_GATEWAY"
    assert answer.headers["x-correlation-id"] == "trace-502"


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "CONNECT", "BREW"])
def test_any_method_reaches_the_function_which_decides_what_to_answer(
    server: FunctionUrlServer, function: RecordingFunction, method: str
) -> None:
    answer = exchange(server, f"{method} /api/v2/alerts HTTP/1.1\r\nHost: local\r\n\r\n".encode())

    assert answer.status == 200
    assert function.events[0]["requestContext"]["http"]["method"] == method


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"brew /pot HTTP/1.1\r\nHost: local\r\n\r\n", 501),  # not a method's shape
        (b"POST /\r\n\r\n", 400),  # HTTP/0.9 knew only GET
        (b"GET / HTTP/1.1 extra\r\n\r\n", 400),  # a request line that does not parse
        (b"GET / HTTP/9.0\r\n\r\n", 505),
    ],
    ids=["unknown method", "http/0.9", "bad request line", "bad version"],
)
def test_the_servers_own_refusals_are_envelopes_not_html(
    server: FunctionUrlServer, raw: bytes, status: int
) -> None:
    answer = exchange(server, raw)

    assert answer.status == status
    assert answer.headers["content-type"] == "application/json"
    assert answer.error_code()
    assert UUID.match(answer.headers["x-correlation-id"])

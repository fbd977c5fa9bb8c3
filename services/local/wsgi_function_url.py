"""A Lambda Function URL as a WSGI application, for the pool of execution environments.

The WSGI server (gunicorn) reads the request line and headers and de-chunks the body; this
application does the rest of what the Function URL service does: it caps the body at 6 MB,
builds the payload 2.0 event with the same adapter as the in-process server
(`function_url_event`), calls the function and writes its answer. Whatever it answers itself
is the API's envelope with a correlation ID.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from gunicorn.http.errors import ParseException

from services.local.function_url_event import (
    MAX_BODY_BYTES,
    Handler,
    HttpAnswer,
    RequestRefusedError,
    build_event,
    drain_after_answer,
    http_answer,
    invoke,
    joined_headers,
    refusal_answer,
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

TIMED_OUT = RequestRefusedError(
    504, "GATEWAY_TIMEOUT", "the function did not answer within its timeout"
)


@dataclass
class InFlight:
    """The request an environment is serving, so a time-out can still answer it."""

    connection: socket.socket | None = None
    headers: dict[str, str] | None = None

    def answer_timeout(self) -> None:
        """Writes the 504 envelope on the request's connection, if a request is running."""
        connection, self.connection = self.connection, None
        if connection is None:
            return
        with contextlib.suppress(OSError):  # the caller left
            connection.sendall(raw_http(refusal_answer(TIMED_OUT, self.headers), close=True))


def environ_headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request's headers as the event carries them (the WSGI server has already joined a
    repeated field's values with commas)."""
    fields = [
        (name[5:].replace("_", "-"), str(value))
        for name, value in environ.items()
        if name.startswith("HTTP_")
    ]
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            fields.append((name.replace("_", "-"), str(environ[name])))
    return joined_headers(fields)


def read_body(environ: dict[str, Any], limit: int = MAX_BODY_BYTES) -> bytes:
    """The request's body (de-chunked by the server), refused past `limit`."""
    declared = str(environ.get("CONTENT_LENGTH") or "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestRefusedError(413, "PAYLOAD_TOO_LARGE", "request body is over 6 MB")
    try:
        body: bytes = environ["wsgi.input"].read(limit + 1)
    except (ParseException, OSError) as error:
        raise RequestRefusedError(
            400, "MALFORMED_REQUEST", "the body's framing is not valid"
        ) from error
    if len(body) > limit:
        raise RequestRefusedError(413, "PAYLOAD_TOO_LARGE", "request body is over 6 MB")
    if declared.isdigit() and len(body) < int(declared):
        raise RequestRefusedError(
            400, "MALFORMED_REQUEST", "the body ended before its Content-Length"
        )
    return body


def function_url_app(
    handler: Handler,
    *,
    domain: str,
    function_name: str = "dashboard",
    in_flight: InFlight | None = None,
    on_busy: Callable[[bool], None] | None = None,
) -> WsgiApp:
    """The WSGI application serving `handler` as its Function URL would."""
    current = in_flight or InFlight()

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        headers = environ_headers(environ)
        method = str(environ["REQUEST_METHOD"])
        connection = environ.get("gunicorn.socket")
        try:
            body = read_body(environ)
        except RequestRefusedError as refused:
            # Where this request's body ends is unknown now: the connection carries no other.
            answer = refusal_answer(refused, headers)
            return _respond(start_response, answer, method, linger_on=connection)
        event = build_event(
            method=method,
            raw_path=str(environ.get("RAW_URI") or _path(environ)),
            headers=headers,
            body=body,
            source_ip=str(environ.get("REMOTE_ADDR", "")),
            domain=domain,
        )
        if on_busy is not None:
            on_busy(True)
        current.connection, current.headers = connection, headers
        try:
            answer = http_answer(invoke(handler, event, function_name))
        except Exception:
            # What the Function URL service answers when the function itself crashes.
            failed = RequestRefusedError(502, "BAD_GATEWAY", "the function failed to answer")
            answer = refusal_answer(failed, headers)
        finally:
            current.connection = None
            if on_busy is not None:
                on_busy(False)
        return _respond(start_response, answer, method)

    return app


def _path(environ: dict[str, Any]) -> str:
    query = environ.get("QUERY_STRING")
    return f"{environ.get('PATH_INFO', '/')}{'?' + query if query else ''}"


def _status_line(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _respond(
    start_response: StartResponse,
    answer: HttpAnswer,
    method: str,
    linger_on: socket.socket | None = None,
) -> Iterable[bytes]:
    fields = answer.fields()
    if linger_on is not None:
        fields.append(("connection", "close"))
    start_response(_status_line(answer.status), fields)
    payload = b"" if method == "HEAD" else answer.payload
    return _AnswerThenLinger(payload, linger_on) if linger_on is not None else [payload]


def raw_http(answer: HttpAnswer, *, close: bool) -> bytes:
    """The answer as bytes on the wire, for the few written outside the WSGI server's own
    response (its parse errors, a time-out)."""
    fields = answer.fields()
    if close:
        fields.append(("connection", "close"))
    head = f"HTTP/1.1 {_status_line(answer.status)}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in fields)
    return head.encode("latin-1") + b"\r\n" + answer.payload


class _AnswerThenLinger:
    """The answer's body; once written, the request's unread body is read and dropped for a
    moment. Closing a socket with unread bytes resets the connection, and a client still
    sending its body would lose the answer."""

    def __init__(self, payload: bytes, connection: socket.socket) -> None:
        self._payload = payload
        self._connection = connection

    def __iter__(self) -> Iterator[bytes]:
        yield self._payload

    def close(self) -> None:
        drain_after_answer(self._connection)

"""What a Lambda Function URL does between HTTP and the function: the payload 2.0 event it
builds from a request, and the HTTP answer it makes of the function's result.

Kept apart from the HTTP servers that carry the bytes (the in-process one and the pool of
execution environments), so both build the same event and answer the same way.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from services.api.errors import error_body
from services.observability import correlation_id_from

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# A Function URL takes at most 6 MB of request payload; past it the service answers 413 itself.
MAX_BODY_BYTES = 6 * 1024 * 1024
# Cookie values hold neither `;` nor `,` (RFC 6265), so either separates two cookies: one
# Cookie header lists them with `;`, repeated Cookie headers are joined with `,`.
_COOKIE_SEPARATORS = re.compile(r"[;,]")

# Bodies of these types reach the function as text; any other body arrives base64-encoded.
# The function's own framing headers, never sent: the server frames the body itself.
_FRAMING = ("content-length", "connection", "transfer-encoding")
_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "application/xml")


@dataclass(frozen=True)
class LocalLambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:local"
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    timeout_s: float = 30.0

    def get_remaining_time_in_millis(self) -> int:
        return int(self.timeout_s * 1000)


def build_event(
    *,
    method: str,
    raw_path: str,
    headers: dict[str, str],
    body: bytes,
    source_ip: str,
    domain: str,
) -> dict[str, Any]:
    """The payload 2.0 event Lambda's Function URL sends for this request."""
    split = urlsplit(raw_path)
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": split.path,
        "rawQueryString": split.query,
        "headers": headers,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": method,
                "path": split.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if split.query:
        # Function URLs join repeated parameters with commas.
        query: dict[str, str] = {}
        for name, value in parse_qsl(split.query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        event["queryStringParameters"] = query
    if "cookie" in headers:
        cookies = (c.strip() for c in _COOKIE_SEPARATORS.split(headers["cookie"]))
        event["cookies"] = [c for c in cookies if c]
    if body:
        text = _as_text(body, headers.get("content-type", ""))
        event["body"] = text if text is not None else base64.b64encode(body).decode()
        event["isBase64Encoded"] = text is None
    return event


def _as_text(body: bytes, content_type: str) -> str | None:
    """The body as text when its type is textual and its bytes are UTF-8: bytes that are not
    reach the function base64-encoded, so it sees them exactly and can refuse them itself."""
    if not content_type.lower().startswith(_TEXT_TYPES):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


@dataclass(frozen=True)
class HttpAnswer:
    """What goes back over HTTP: status, headers (lower-case names), body, cookies."""

    status: int
    headers: dict[str, str]
    payload: bytes
    cookies: list[str] = field(default_factory=list)

    def fields(self) -> list[tuple[str, str]]:
        """The header fields to send: JSON unless the answer says otherwise, each cookie, and
        the body's length (the framing is the server's: the body goes out whole)."""
        headers = {"content-type": "application/json", **self.headers}
        fields = [(name, value) for name, value in headers.items() if name not in _FRAMING]
        fields += [("set-cookie", cookie) for cookie in self.cookies]
        fields.append(("content-length", str(len(self.payload))))
        return fields


def http_answer(result: dict[str, Any]) -> HttpAnswer:
    """The HTTP answer the Function URL makes of the function's (payload 2.0) result."""
    headers = {name.lower(): str(value) for name, value in (result.get("headers") or {}).items()}
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers[name.lower()] = ", ".join(str(v) for v in values)
    return HttpAnswer(
        status=int(result.get("statusCode", 200)),
        headers=headers,
        payload=_payload(result),
        cookies=list(result.get("cookies") or []),
    )


def _payload(result: dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if result.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


def joined_headers(fields: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Header fields as the event carries them: lower-case names, the values of a repeated
    field joined with commas (as the Function URL joins them)."""
    headers: dict[str, str] = {}
    for name, value in fields:
        key = name.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers


class RequestRefusedError(Exception):
    """A request the server answers itself, without calling the function."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def refusal_answer(refusal: RequestRefusedError, headers: dict[str, str] | None) -> HttpAnswer:
    """The envelope the server answers with itself, under the caller's correlation ID when it
    sent a well-formed one (a new one otherwise), like every answer of the function."""
    correlation_id = correlation_id_from(headers)
    body = error_body(refusal.code, refusal.message).encode()
    return HttpAnswer(refusal.status, {"x-correlation-id": correlation_id}, body)


def invoke(handler: Handler, event: dict[str, Any], function_name: str) -> dict[str, Any]:
    """Calls the function as Lambda does: the event and a context of its own."""
    context = LocalLambdaContext(
        function_name=function_name, aws_request_id=event["requestContext"]["requestId"]
    )
    return handler(event, context)


# How long a refused request's unread body is read and dropped before the connection closes.
LINGER_S = 1.0


def drain_after_answer(connection: socket.socket) -> None:
    """Closing a socket with unread bytes resets the connection, and a client still sending its
    body would lose the answer: stop writing, then read and drop what still comes, for a
    moment, before the connection closes."""
    try:
        connection.shutdown(socket.SHUT_WR)
        connection.settimeout(LINGER_S)
        deadline = time.monotonic() + LINGER_S
        while time.monotonic() < deadline and connection.recv(64 * 1024):
            pass
    except OSError:
        pass

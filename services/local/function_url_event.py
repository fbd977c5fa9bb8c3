"""What a Lambda Function URL does between HTTP and the function: the payload 2.0 event it
builds from a request, and the HTTP answer it makes of the function's result.

Kept apart from the HTTP server that carries the bytes, so any server can reuse it.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# Bodies of these types reach the function as text; any other body arrives base64-encoded.
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
        event["cookies"] = [c.strip() for c in headers["cookie"].split(";")]
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

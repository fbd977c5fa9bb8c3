"""A local Lambda Function URL: HTTP in, payload 2.0 event to the handler, HTTP out.

The handler is the very function deployed to AWS; this server only does what the Function
URL service does: build the event, call the handler, write its response. Requests are served
from one thread each; a handler that cannot take concurrent calls serialises itself (the
dashboard function does, around its resolver).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from services.local.processes import PortInUseError

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "application/xml")
MAX_BODY_BYTES = 1024 * 1024


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
    content_type = headers.get("content-type", "")
    is_text = not body or any(content_type.startswith(t) for t in _TEXT_TYPES)
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
        "isBase64Encoded": not is_text,
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
        event["body"] = body.decode() if is_text else base64.b64encode(body).decode()
    return event


_BAD_GATEWAY = json.dumps(
    {"error": {"code": "BAD_GATEWAY", "message": "the function failed to answer"}}
).encode()
_TOO_LARGE = json.dumps(
    {"error": {"code": "PAYLOAD_TOO_LARGE", "message": "request body is over 1 MiB"}}
).encode()


def _payload(result: dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if result.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, keep-alive clients wait
    # ~40 ms for a delayed ACK on every response.
    disable_nagle_algorithm = True
    server: FunctionUrlHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        # Requests are logged by the function itself, with correlation IDs and sanitising.
        return

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            self._write(413, {}, _TOO_LARGE)
            return
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        event = build_event(
            method=self.command,
            raw_path=self.path,
            headers=headers,
            body=body,
            source_ip=self.client_address[0],
            domain=self.server.domain,
        )
        context = LocalLambdaContext(
            function_name=self.server.function_name,
            aws_request_id=event["requestContext"]["requestId"],
        )
        try:
            result = self.server.handler(event, context)
        except Exception:
            # What the Function URL service answers when the function itself crashes.
            self._write(502, {}, _BAD_GATEWAY)
            return
        status = int(result.get("statusCode", 200))
        response_headers = {k.lower(): str(v) for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response_headers[name.lower()] = ", ".join(str(v) for v in values)
        self._write(status, response_headers, _payload(result), cookies=result.get("cookies"))

    def _write(
        self,
        status: int,
        headers: dict[str, str],
        payload: bytes,
        cookies: list[str] | None = None,
    ) -> None:
        self.send_response(status)
        headers.setdefault("content-type", "application/json")
        for name, value in headers.items():
            if name not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        for cookie in cookies or []:
            self.send_header("set-cookie", cookie)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    # BaseHTTPRequestHandler dispatches on these names.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _handle  # noqa: N815


class FunctionUrlHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: Handler, function_name: str) -> None:
        self.handler = handler
        self.function_name = function_name
        super().__init__(address, _RequestHandler)
        self.domain = f"{address[0]}:{self.server_address[1]}"


class FunctionUrlServer:
    """Serves one handler on `host:port` from a background thread."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        function_name: str = "dashboard",
    ) -> None:
        try:
            self._server = FunctionUrlHTTPServer((host, port), handler, function_name)
        except OSError as error:
            raise PortInUseError("the API (Function URL server)", host, port) from error
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self._server.domain}"

    def serve(self, handler: Handler) -> None:
        """Answer with `handler` from now on: the port is bound first, so what the handler
        is built from (links in e-mails) can know the API's address."""
        self._server.handler = handler

    def start(self) -> FunctionUrlServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="function-url", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

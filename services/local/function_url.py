"""A local Lambda Function URL in this process: HTTP in, payload 2.0 event to the handler,
HTTP out.

The handler is the very function deployed to AWS; this server only does what the Function
URL service does: read the request (its body framed by Content-Length or chunked, at most
6 MB), build the event, call the handler, write its response. What it refuses itself gets the
API's error envelope and a correlation ID, like every answer of the function.

It is one execution environment: connections are read from a thread each, but the handler is
called for one request at a time, as Lambda calls one environment (Powertools keeps the
request being resolved in process-wide state). The stack serves the API from a pool of
environments in processes of their own (`api_pool`); this server stays for tests that start
another function instance with collaborators of their own.

The event and the answer are made in `function_url_event`; this module is only the HTTP side.
"""

from __future__ import annotations

import contextlib
import re
import threading
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BufferedIOBase
from typing import Any

from services.local.function_url_event import (
    MAX_BODY_BYTES,
    Handler,
    HttpAnswer,
    LocalLambdaContext,
    RequestRefusedError,
    build_event,
    drain_after_answer,
    http_answer,
    invoke,
    joined_headers,
    refusal_answer,
)
from services.local.processes import PortInUseError
from services.observability import correlation_id_from

__all__ = ["MAX_BODY_BYTES", "FunctionUrlServer", "LocalLambdaContext", "build_event", "read_body"]

# ASCII digits only: `int()` and `str.isdigit()` also take other scripts' digits and signs.
_CONTENT_LENGTH = re.compile(r"[0-9]{1,20}")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_MAX_CHUNK_LINE = 4096
_METHOD = re.compile(r"[A-Z][A-Z-]{0,31}")
_MAX_TRAILER_LINES = 32


def read_body(headers: Message, rfile: BufferedIOBase, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request's body, framed by `Transfer-Encoding: chunked` or by `Content-Length`."""
    encodings = headers.get_all("transfer-encoding") or []
    lengths = headers.get_all("content-length") or []
    if encodings:
        if lengths:
            # Two framings disagree on where the body ends: the way requests get smuggled.
            raise RequestRefusedError(
                400, "MALFORMED_REQUEST", "send Transfer-Encoding or Content-Length, not both"
            )
        codings = [c.strip().lower() for value in encodings for c in value.split(",")]
        if codings != ["chunked"]:
            raise RequestRefusedError(
                501, "UNSUPPORTED_TRANSFER_ENCODING", "only chunked transfer encoding is supported"
            )
        return _read_chunked(rfile, limit)
    if not lengths:
        return b""
    values = {value.strip() for value in lengths}
    declared = values.pop()
    if values or not _CONTENT_LENGTH.fullmatch(declared):
        raise RequestRefusedError(
            400, "MALFORMED_REQUEST", "Content-Length must be one non-negative whole number"
        )
    length = int(declared)
    if length > limit:
        raise RequestRefusedError(413, "PAYLOAD_TOO_LARGE", "request body is over 6 MB")
    body = rfile.read(length)
    if len(body) < length:
        raise RequestRefusedError(
            400, "MALFORMED_REQUEST", "the body ended before its Content-Length"
        )
    return body


def _read_chunked(rfile: BufferedIOBase, limit: int) -> bytes:
    body = bytearray()
    while True:
        size = _chunk_size(rfile.readline(_MAX_CHUNK_LINE + 1))
        if size == 0:
            break
        if len(body) + size > limit:
            raise RequestRefusedError(413, "PAYLOAD_TOO_LARGE", "request body is over 6 MB")
        chunk = rfile.read(size)
        if len(chunk) < size or rfile.readline(3).rstrip(b"\r\n") != b"":
            raise RequestRefusedError(400, "MALFORMED_REQUEST", "a chunk is shorter than its size")
        body += chunk
    # Trailer fields, if any, end with an empty line; the function gets none of them.
    for _ in range(_MAX_TRAILER_LINES):
        line = rfile.readline(_MAX_CHUNK_LINE + 1)
        if not line.strip():
            return bytes(body)
    raise RequestRefusedError(400, "MALFORMED_REQUEST", "too many trailer fields")


def _chunk_size(line: bytes) -> int:
    size = line.split(b";", 1)[0].strip()  # chunk extensions are ignored
    if len(line) > _MAX_CHUNK_LINE or not line.endswith(b"\n") or not _CHUNK_SIZE.fullmatch(size):
        raise RequestRefusedError(400, "MALFORMED_REQUEST", "a chunk size line is not valid")
    return int(size, 16)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, keep-alive clients wait
    # ~40 ms for a delayed ACK on every response.
    disable_nagle_algorithm = True
    server: FunctionUrlHTTPServer
    # The current request's, once its headers are read; empty before (a refused request line).
    correlation_id = ""

    def log_message(self, format: str, *args: Any) -> None:
        # Requests are logged by the function itself, with correlation IDs and sanitising.
        return

    def handle_one_request(self) -> None:
        self.correlation_id = ""
        super().handle_one_request()

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed:
            self.correlation_id = correlation_id_from(dict(self.headers.items()))
        return parsed

    def _handle(self) -> None:
        try:
            body = read_body(self.headers, self.rfile)
        except RequestRefusedError as refused:
            # Where this request's body ends is unknown now: the connection carries no other.
            self._refuse(refused)
            self._drop_unread_body()
            return
        # The caller's correlation ID is passed on as it came; a malformed one is replaced by
        # the function, which then answers with its own.
        headers = joined_headers(self.headers.items())
        event = build_event(
            method=self.command,
            raw_path=self.path,
            headers=headers,
            body=body,
            source_ip=self.client_address[0],
            domain=self.server.domain,
        )
        try:
            # One request at a time, as one execution environment serves them.
            with self.server.invoking:
                result = invoke(self.server.handler, event, self.server.function_name)
        except Exception:
            # What the Function URL service answers when the function itself crashes.
            self._refuse(RequestRefusedError(502, "BAD_GATEWAY", "the function failed to answer"))
            return
        self._write(http_answer(result))

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (a malformed request line or headers, a method
        it does not know), in the API's envelope instead of an HTML page."""
        status = HTTPStatus(code)
        if self.request_version == "HTTP/0.9":
            # The request line did not parse (the version is still the default): answer with a
            # status line all the same, for the clients of this century.
            self.request_version = "HTTP/1.1"
        self._refuse(RequestRefusedError(status.value, status.name, message or status.phrase))

    def _refuse(self, refusal: RequestRefusedError) -> None:
        self.close_connection = True
        known = {"x-correlation-id": self.correlation_id} if self.correlation_id else None
        self._write(refusal_answer(refusal, known))

    def _drop_unread_body(self) -> None:
        """Closing a socket with unread bytes resets the connection, and a client still sending
        its body would lose the answer: stop writing, then read and drop what still comes, for
        a moment, before the connection closes."""
        with contextlib.suppress(OSError):
            self.wfile.flush()
        drain_after_answer(self.connection)

    def _write(self, answer: HttpAnswer) -> None:
        self.send_response(answer.status)
        for name, value in answer.fields():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.payload)

    def __getattr__(self, name: str) -> Any:
        """BaseHTTPRequestHandler dispatches on `do_<METHOD>`: every well-formed method goes to
        the function, which answers 405 with `Allow` for those a path has no route for (TRACE,
        QUERY, ...). Anything else gets the standard library's 501, in the envelope."""
        if name.startswith("do_") and _METHOD.fullmatch(name[3:]):
            return self._handle
        raise AttributeError(name)


class FunctionUrlHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: Handler, function_name: str) -> None:
        self.handler = handler
        self.function_name = function_name
        self.invoking = threading.Lock()
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

"""Structured logs with correlation IDs, and the sanitiser that runs before anything is logged.

Powertools' Logger does the JSON and the Lambda context; our formatter adds one step:
every log record is passed through `sanitize`, so an e-mail address is masked and a token,
secret or password never reaches a log line, whatever a caller passes in.

Plain `logging` loggers (the adapters', the resilience objects', the local runtime's) go
through the same sanitiser: `install_log_sanitiser` wraps the process's log record factory,
so every record is rendered, sanitised and capped when it is made, before any handler
(Lambda's, `basicConfig`'s, a test's) sees it. A factory rather than a `logging.Filter`:
a filter on the root logger never sees the records its children propagate, and a filter on
handlers misses every handler added later. What a record's `extra` adds is not covered for
plain loggers (their formatters do not print it); Powertools' formatter sanitises it.

Every pattern here runs in time linear in the text (a request path is attacker-controlled
and logged on every request), and a logged string is cut to `MAX_LOGGED_TEXT` characters.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections import deque
from collections.abc import Mapping
from threading import Lock
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

CORRELATION_HEADER = "x-correlation-id"
REDACTED = "[REDACTED]"
# What one logged string may carry: a path, a header or a message longer than this is cut,
# with a marker saying how much was left out.
MAX_LOGGED_TEXT = 2048
# Tracebacks are ours, not a caller's, and are read whole when something broke.
MAX_LOGGED_TRACEBACK = 16384
_TRACEBACK_KEYS = frozenset({"exception", "stack_trace"})
# Beyond these a list or a mapping is cut, and deeper nesting is not walked.
MAX_LOGGED_ITEMS = 100
MAX_LOGGED_DEPTH = 8
# A value is scanned this far past its cap before it is cut, so an e-mail or a token that
# crosses the cap is still recognised whole (an address has at most 254 characters).
_SCAN_MARGIN = 1024

# Keys whose values are credentials, whatever their content.
_SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|authorization|api[_-]?key|cookie|credential|code_verifier)",
    re.IGNORECASE,
)
# Query parameters that are credentials though their names do not say so (OAuth's code and
# state, a signature, a bare key); `magic_token`, `token`, `api_key` are caught by the above.
_SECRET_PARAMS = frozenset({"code", "state", "key", "sig", "signature"})
_LOCAL_PART = r"[A-Za-z0-9._%+-]"
# Linear by construction: the lookbehind lets a match start only where a run of local-part
# characters starts (a pattern free to start again at each of them rescans the run each
# time: quadratic on a long run of dots and letters), the possessive `*+` never gives
# characters back, and a domain's labels end at dots, so backtracking gives up whole labels.
_EMAIL = re.compile(
    rf"(?<!{_LOCAL_PART})({_LOCAL_PART}){_LOCAL_PART}*+@((?:[A-Za-z0-9-]*+\.)+[A-Za-z]{{2,}})\b"
)
_BEARER = re.compile(r"(Bearer|Token)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
# A URL's query or fragment parameter; its name is judged by `_secret_param`.
_QUERY_PARAM = re.compile(r"([?&;#])([A-Za-z0-9_.\-]{1,64})=([^&#\s\"'<>]*)")
_VALID_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def mask_email(text: str) -> str:
    """`jane.doe@example.com` -> `j***@example.com`: enough to debug, not enough to spam."""
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)


def _secret_param(name: str) -> bool:
    return name.lower() in _SECRET_PARAMS or _SECRET_KEY.search(name) is not None


def _mask_query_secrets(text: str) -> str:
    """`?tickers=AAPL&magic_token=abc` -> `?tickers=AAPL&magic_token=[REDACTED]`."""

    def masked(match: re.Match[str]) -> str:
        separator, name, value = match.groups()
        if not value or not _secret_param(name):
            return match.group(0)
        return f"{separator}{name}={REDACTED}"

    return _QUERY_PARAM.sub(masked, text)


def sanitize_text(text: str) -> str:
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _mask_query_secrets(text)
    return mask_email(text)


def capped_text(text: str, limit: int = MAX_LOGGED_TEXT) -> str:
    """`text` sanitised and cut to `limit` characters, with a marker when something was cut.

    Only the first `limit` characters (and a margin) are scanned: what is cut is never
    logged, so a megabyte-long value costs no more than a short one."""
    clean = sanitize_text(text[: limit + _SCAN_MARGIN])
    if len(text) <= limit:
        return clean
    return f"{clean[:limit]}...[truncated {len(text) - limit} chars]"


def sanitize(value: Any, key: str | None = None, *, _depth: int = 0) -> Any:
    """A copy of `value` safe to log: secrets by key name dropped, e-mails masked, tokens in
    text and URLs masked, long strings, collections and nesting cut."""
    if key is not None and _SECRET_KEY.search(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return capped_text(
            value, MAX_LOGGED_TRACEBACK if key in _TRACEBACK_KEYS else MAX_LOGGED_TEXT
        )
    if isinstance(value, Mapping | list | tuple | set | frozenset) and _depth >= MAX_LOGGED_DEPTH:
        return f"[{type(value).__name__} nested deeper than {MAX_LOGGED_DEPTH} levels]"
    if isinstance(value, Mapping):
        items = list(value.items())
        clean = {k: sanitize(v, str(k), _depth=_depth + 1) for k, v in items[:MAX_LOGGED_ITEMS]}
        if len(items) > MAX_LOGGED_ITEMS:
            clean["truncated_items"] = len(items) - MAX_LOGGED_ITEMS
        return clean
    if isinstance(value, list | tuple | set | frozenset):
        values = list(value)
        cleaned = [sanitize(v, _depth=_depth + 1) for v in values[:MAX_LOGGED_ITEMS]]
        if len(values) > MAX_LOGGED_ITEMS:
            cleaned.append(f"...[truncated {len(values) - MAX_LOGGED_ITEMS} items]")
        return cleaned
    return value


def sanitise_record(record: logging.LogRecord) -> logging.LogRecord:
    """`record` with its message rendered, sanitised and capped, and its traceback sanitised.

    The arguments are merged into the message here (`args` emptied), so no handler renders
    them again unsanitised. A message whose arguments do not fit its format keeps only the
    format: logging would otherwise print the raw arguments to stderr."""
    if isinstance(record.msg, Mapping | list | tuple) and not record.args:
        # Powertools logs a dict or list message as the JSON it is.
        record.msg = sanitize(record.msg)
    else:
        try:
            message = record.getMessage()
        except Exception:  # a bad format or a failing __str__ must not fail the caller
            message = f"{record.msg!s:.{MAX_LOGGED_TEXT}} [arguments did not fit the message]"
        record.msg = capped_text(message)
        record.args = ()
    if record.exc_info and not record.exc_text:
        # Standard formatters print `exc_text` when it is set; an exception's text may carry
        # what it was about (an address, a URL with its token).
        record.exc_text = capped_text(
            logging.Formatter().formatException(record.exc_info), MAX_LOGGED_TRACEBACK
        )
    if record.stack_info:
        record.stack_info = capped_text(record.stack_info, MAX_LOGGED_TRACEBACK)
    return record


_INSTALL_LOCK = Lock()
_SANITISING_FACTORY = "_sanitises_records"


def install_log_sanitiser() -> None:
    """Make every log record of this process sanitised when it is made (once per process;
    calling again does nothing). Called where a process starts: the Lambda entry points'
    package and the local stack's command line."""
    with _INSTALL_LOCK:
        current = logging.getLogRecordFactory()
        if getattr(current, _SANITISING_FACTORY, False):
            return

        def sanitising_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return sanitise_record(current(*args, **kwargs))

        setattr(sanitising_factory, _SANITISING_FACTORY, True)
        logging.setLogRecordFactory(sanitising_factory)


class LogBuffer:
    """The last N sanitised log records of this process, for the workbench's live log tail."""

    def __init__(self, capacity: int = 2000) -> None:
        self._records: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._lock = Lock()

    def append(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._records.append(record)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._records)


LOG_BUFFER = LogBuffer()


class SanitisingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter with the sanitiser applied to the whole record."""

    def serialize(self, log: Mapping[str, Any]) -> str:
        line = str(self.json_serializer(sanitize(dict(log))))
        # The buffer keeps the line as written, not the record's objects: an `extra` such as
        # an exception would otherwise reach the log tail's JSON answer unserialisable.
        LOG_BUFFER.append(json.loads(line))
        return line


def get_logger(service: str, level: str = "INFO") -> Logger:
    """The logger of one function (`service` names it in every line)."""
    return Logger(service=service, level=level, logger_formatter=SanitisingFormatter())


def correlation_id_from(headers: Mapping[str, str] | None) -> str:
    """The caller's correlation ID when it is well formed, a new one otherwise."""
    if headers:
        for name, value in headers.items():
            if name.lower() == CORRELATION_HEADER and _VALID_CORRELATION_ID.match(value or ""):
                return value
    return str(uuid.uuid4())

"""Structured logs with correlation IDs, and the sanitiser that runs before anything is logged.

Powertools' Logger does the JSON and the Lambda context; our formatter adds one step:
every log record is passed through `sanitize`, so an e-mail address is masked and a token,
secret or password never reaches a log line, whatever a caller passes in.
"""

from __future__ import annotations

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

# Keys whose values are credentials, whatever their content.
_SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|authorization|api[_-]?key|cookie|credential|code_verifier)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
_BEARER = re.compile(r"(Bearer|Token)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_QUERY_SECRET = re.compile(r"([?&](?:token|api_key|apikey|key|code)=)[^&\s]+", re.IGNORECASE)
_VALID_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def mask_email(text: str) -> str:
    """`jane.doe@example.com` -> `j***@example.com`: enough to debug, not enough to spam."""
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)


def sanitize_text(text: str) -> str:
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}{REDACTED}", text)
    return mask_email(text)


def sanitize(value: Any, key: str | None = None) -> Any:
    """A copy of `value` safe to log: secrets by key name dropped, e-mails masked."""
    if key is not None and _SECRET_KEY.search(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return sanitize_text(value)
    if isinstance(value, Mapping):
        return {k: sanitize(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [sanitize(v) for v in value]
    return value


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
        clean = sanitize(dict(log))
        LOG_BUFFER.append(clean)
        return str(self.json_serializer(clean))


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

"""SendGrid's v3 Mail Send on 127.0.0.1: `POST /v3/mail/send`, plus an outbox to read.

Auth is `Authorization: Bearer <key>`. A valid message is answered like SendGrid does: 202,
no body, an `X-Message-Id` header. Errors use SendGrid's shape
`{"errors": [{"message", "field", "help"}]}`: 400 lists every problem of the body, 401 a bad
key, 429 (the `http_429` fault) carries `Retry-After` and the `X-RateLimit-*` headers.

Plans (`plan="free" | "paid"`, default "paid"; `POST /_emulator/plan` switches at run time,
`GET /_emulator/usage` shows the counts; see `base.py`): the free plan sends 100 e-mails a
day (SendGrid's free trial), counted one per request in calendar days (UTC) of the
emulator's clock; the paid plan has no daily cap (`SendGridLimits`). Past the cap SendGrid
answers 401 `{"errors": [{"message": "Maximum credits exceeded", "field": null, "help":
null}]}`, before it looks at the body.

Sender identity (`verified_senders=`, or `POST /_emulator/senders {"verified": [...]}`;
`DELETE` accepts any sender again, the default): addresses, or domains (`app.test` or
`@app.test`) for an authenticated domain. A valid message whose `from` is none of them is
refused as SendGrid refuses it: 403 with the message below, `"field": "from"` and
`"help": null`.

Control routes (never at SendGrid): `GET /_emulator/outbox[?to=address]` lists what was
accepted, oldest first; `DELETE /_emulator/outbox` empties it; `GET /_emulator/senders`;
`/_emulator/faults`, `/_emulator/plan`, `/_emulator/usage` and `/_emulator/health` come from
the base class.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from services.clock import Clock, iso, utc_now
from services.local.emulators.base import (
    Allowance,
    HttpEmulator,
    Plan,
    PlanMeter,
    Request,
    Response,
)

SEND_PATH = "/v3/mail/send"
OUTBOX_PATH = "/_emulator/outbox"
SENDERS_PATH = "/_emulator/senders"
CREDITS_EXCEEDED = "Maximum credits exceeded"
UNVERIFIED_SENDER = (
    "The from address does not match a verified Sender Identity. Mail cannot be sent until "
    "this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/"
    "sender-identity/ to see the Sender Identity requirements"
)
MAX_PERSONALIZATIONS = 1000
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HELP = "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"


@dataclass(frozen=True)
class OutboxMessage:
    message_id: str
    to: tuple[str, ...]
    from_email: str
    subject: str
    text: str | None
    html: str | None
    received_at: str
    # The message's custom headers (e.g. the sender's `X-Entity-Ref-ID`).
    headers: tuple[tuple[str, str], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.message_id,
            "to": list(self.to),
            "from": self.from_email,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "received_at": self.received_at,
            "headers": dict(self.headers),
        }


def _problem(message: str, field: str | None) -> dict[str, Any]:
    # SendGrid points each problem at the section of its errors page for that field.
    anchor = f"#message.{field.split('.')[0]}" if field else ""
    return {"message": message, "field": field, "help": f"{_HELP}{anchor}" if field else None}


def _valid_address(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 320 and bool(_ADDRESS.match(value))


def _check_address(value: Any, field: str, problems: list[dict[str, Any]]) -> str | None:
    """The address of an `{email, name?}` object, or None after recording what is wrong."""
    if not isinstance(value, dict) or "email" not in value:
        problems.append(_problem("The email parameter is required.", f"{field}.email"))
        return None
    email = value["email"]
    if not _valid_address(email):
        problems.append(_problem("Does not contain a valid address.", f"{field}.email"))
        return None
    return str(email)


def validate_mail(body: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every problem SendGrid would report for this body, and the parts the outbox keeps."""
    if not isinstance(body, dict):
        return [_problem("The request body must be a JSON object.", None)], {}
    # Problems are listed in SendGrid's order: personalizations, from, subject, content, headers.
    problems: list[dict[str, Any]] = []
    recipients, subjects_in_personalizations = _check_personalizations(
        body.get("personalizations"), problems
    )
    from_email = _check_address(body.get("from"), "from", problems)
    template = isinstance(body.get("template_id"), str) and bool(body["template_id"])
    subject = _check_subject(body.get("subject"), subjects_in_personalizations, template, problems)
    text, html = _check_content(body.get("content"), template, problems)
    headers = _check_headers(body.get("headers"), problems)
    kept = {
        "headers": headers,
        "to": tuple(recipients),
        "from_email": from_email or "",
        "subject": subject,
        "text": text,
        "html": html,
    }
    return problems, kept


def _check_personalizations(
    personalizations: Any, problems: list[dict[str, Any]]
) -> tuple[list[str], bool]:
    """The valid recipients of every personalization, and whether each has a subject of its
    own (which makes the message's subject optional); what is wrong goes to `problems`."""
    if not isinstance(personalizations, list) or not personalizations:
        problems.append(
            _problem(
                "The personalizations field is required and must have at least one "
                "personalization.",
                "personalizations",
            )
        )
        return [], False
    if len(personalizations) > MAX_PERSONALIZATIONS:
        problems.append(
            _problem(
                f"The personalizations field may hold at most {MAX_PERSONALIZATIONS} items.",
                "personalizations",
            )
        )
        return [], False
    recipients: list[str] = []
    every_one_has_a_subject = True
    for index, personalization in enumerate(personalizations):
        field = f"personalizations.{index}"
        to = personalization.get("to") if isinstance(personalization, dict) else None
        if not isinstance(to, list) or not to:
            problems.append(
                _problem(
                    "The to array is required for all personalization objects, and must "
                    "have at least one email object with a valid email address.",
                    f"{field}.to",
                )
            )
            every_one_has_a_subject = False
            continue
        for position, recipient in enumerate(to):
            address = _check_address(recipient, f"{field}.to.{position}", problems)
            if address is not None:
                recipients.append(address)
        subject = personalization.get("subject")
        if not (isinstance(subject, str) and subject.strip()):
            every_one_has_a_subject = False
    return recipients, every_one_has_a_subject


def _check_subject(
    subject: Any, subjects_in_personalizations: bool, template: bool, problems: list[dict[str, Any]]
) -> str:
    """The message's subject ("" without one); a message needs one unless every
    personalization or its template has one."""
    has_subject = isinstance(subject, str) and bool(subject.strip())
    if not (has_subject or subjects_in_personalizations or template):
        problems.append(
            _problem(
                "The subject is required. You can get around this requirement if you use a "
                "template with a subject defined or if every personalization has a subject.",
                "subject",
            )
        )
    return subject if has_subject else ""


def _check_headers(headers: Any, problems: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """The custom headers, sorted by name; they must be an object of strings."""
    if headers is not None and not (
        isinstance(headers, dict) and all(isinstance(v, str) for v in headers.values())
    ):
        problems.append(_problem("The headers field must be an object of strings.", "headers"))
    return tuple(sorted(headers.items())) if isinstance(headers, dict) else ()


def _check_content(
    content: Any, template: bool, problems: list[dict[str, Any]]
) -> tuple[str | None, str | None]:
    if content is None and template:
        return None, None
    if not isinstance(content, list) or not content:
        problems.append(
            _problem(
                "Unless a valid template_id is provided, the content parameter is required. "
                "There must be at least one defined content block.",
                "content",
            )
        )
        return None, None
    text = html = None
    for index, block in enumerate(content):
        field = f"content.{index}"
        kind = block.get("type") if isinstance(block, dict) else None
        value = block.get("value") if isinstance(block, dict) else None
        if not (isinstance(kind, str) and kind.strip()):
            problems.append(_problem("The content type is required.", f"{field}.type"))
            continue
        if not (isinstance(value, str) and value):
            problems.append(
                _problem(
                    "The content value must be a string at least one character in length.",
                    f"{field}.value",
                )
            )
            continue
        if kind == "text/plain":
            if index != 0:
                problems.append(
                    _problem("If present, text/plain content must be first.", f"{field}.type")
                )
            text = value
        elif kind == "text/html":
            html = value
    return text, html


@dataclass(frozen=True)
class SendGridLimits:
    """A SendGrid plan's limit; 0 is no limit."""

    emails_per_day: int

    def allowances(self) -> tuple[Allowance, ...]:
        return (Allowance("emails_per_day", "day", self.emails_per_day),)


SENDGRID_FREE = SendGridLimits(emails_per_day=100)
# Paid plans are monthly volumes with overage, not a daily cap.
SENDGRID_PAID = SendGridLimits(emails_per_day=0)


def _senders(entries: Iterable[str]) -> frozenset[str]:
    return frozenset(e.strip().lower().lstrip("@") for e in entries if e.strip().lstrip("@"))


class SendGridEmulator(HttpEmulator):
    provider = "sendgrid"

    def __init__(
        self,
        api_key: str,
        *,
        clock: Clock = utc_now,
        plan: Plan = "paid",
        free_limits: SendGridLimits = SENDGRID_FREE,
        paid_limits: SendGridLimits = SENDGRID_PAID,
        verified_senders: Iterable[str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(api_key, **options)
        self.clock = clock
        self.meter = PlanMeter.of(lambda: self.clock(), free_limits, paid_limits, plan)
        # None: any sender (no identity checked); else addresses and domains, lower case.
        self.verified_senders = None if verified_senders is None else _senders(verified_senders)
        self._outbox: list[OutboxMessage] = []
        self._outbox_lock = threading.Lock()
        self.route("POST", lambda path: {} if path == SEND_PATH else None, self._send)

    def authorized(self, request: Request) -> bool:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        return (
            scheme.lower() == "bearer"
            and bool(key)
            and secrets.compare_digest(key.strip().encode(), self.api_key.encode())
        )

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        if status == 401:
            message = "The provided authorization grant is invalid, expired, or revoked"
        return Response(status, {"errors": [_problem(message, None)]}, headers or {})

    def rate_limited(self, retry_after_s: float) -> Response:
        seconds = max(1, round(retry_after_s))
        headers = {
            "Retry-After": str(seconds),
            "X-RateLimit-Limit": "600",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time()) + seconds),
        }
        return Response(429, {"errors": [_problem("too many requests", None)]}, headers)

    def over_limit(self, allowance: Allowance, retry_after_s: float) -> Response:
        return Response(
            401, {"errors": [{"message": CREDITS_EXCEEDED, "field": None, "help": None}]}
        )

    def verified(self, address: str) -> bool:
        """Whether `address` may send: no identities set, or it or its domain is one."""
        if self.verified_senders is None:
            return True
        wanted = address.strip().lower()
        return bool({wanted, wanted.rpartition("@")[2]} & self.verified_senders)

    # --- the provider route ----------------------------------------------------------------

    def _send(self, request: Request) -> Response:
        problems, kept = validate_mail(request.body)
        if problems:
            return Response(400, {"errors": problems})
        if not self.verified(kept["from_email"]):
            problem = {"message": UNVERIFIED_SENDER, "field": "from", "help": None}
            return Response(403, {"errors": [problem]})
        message_id = secrets.token_urlsafe(16)[:22]
        message = OutboxMessage(message_id=message_id, received_at=iso(self.clock()), **kept)
        with self._outbox_lock:
            self._outbox.append(message)
        return Response(202, b"", {"X-Message-Id": message_id})

    # --- the outbox -----------------------------------------------------------------------

    def outbox(self, to: str | None = None) -> list[OutboxMessage]:
        with self._outbox_lock:
            messages = list(self._outbox)
        if to is None:
            return messages
        wanted = to.strip().lower()
        return [m for m in messages if wanted in (a.lower() for a in m.to)]

    def clear_outbox(self) -> int:
        with self._outbox_lock:
            count = len(self._outbox)
            self._outbox.clear()
        return count

    def _control(self, request: Request) -> Response:
        if request.path == OUTBOX_PATH:
            if request.method == "GET":
                messages = self.outbox(request.query.get("to"))
                return Response(200, [m.to_json() for m in messages])
            if request.method == "DELETE":
                return Response(200, {"deleted": self.clear_outbox()})
        if request.path == SENDERS_PATH:
            return self._senders_control(request)
        return super()._control(request)

    def _senders_control(self, request: Request) -> Response:
        if request.method == "POST":
            entries = request.body.get("verified") if isinstance(request.body, dict) else None
            if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
                return Response(
                    400, {"detail": "'verified' must be a list of addresses or domains"}
                )
            self.verified_senders = _senders(entries)
        elif request.method == "DELETE":
            self.verified_senders = None
        senders = None if self.verified_senders is None else sorted(self.verified_senders)
        return Response(200, {"verified": senders})

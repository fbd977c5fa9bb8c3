"""The providers of the workbench's unit tests, in this process: the project's own emulators
(news and prices, SendGrid, the OpenID provider) answering httpx requests without a socket,
and a prices source of steady candles.

Each emulator is reached at a host of its own (`http://tiingo.test`, ...), by the workbench's
client and by the API's adapters alike, through `EmulatedHosts.transport()`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
from sendgrid.helpers.mail import From, Header, Mail, To

from services.adapters.email import REFERENCE_HEADER, EmailMessage, SentEmail
from services.adapters.errors import ProviderUnavailableError
from services.adapters.models import Candle, Resolution
from services.clock import Clock
from services.local.emulators.base import HttpEmulator, Request
from services.local.emulators.finnhub import FinnhubEmulator
from services.local.emulators.oidc import OidcEmulator
from services.local.emulators.sendgrid import SEND_PATH, SendGridEmulator
from services.local.emulators.tiingo import TiingoEmulator
from services.local.emulators.world import NewsWorld

TIINGO = "http://tiingo.test"
FINNHUB = "http://finnhub.test"
SENDGRID = "http://sendgrid.test"
OIDC = "http://oidc.test"
TIINGO_KEY = "tiingo-test-key"
FINNHUB_KEY = "finnhub-test-key"
SENDGRID_KEY = "sendgrid-test-key"
OIDC_CLIENT = "workbench-tests"


class InProcessOidc(OidcEmulator):
    """The OpenID provider at `OIDC`: its issuer and endpoints name that host, not a port."""

    @property
    def root_url(self) -> str:
        return OIDC


def _request_body(request: httpx.Request) -> Any:
    """The body as the emulators' HTTP server decodes it: a form's fields, or JSON."""
    raw = request.content
    if not raw:
        return None
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw.decode(), keep_blank_values=True))
    try:
        return json.loads(raw)
    except ValueError:
        return None


def emulator_answer(emulator: HttpEmulator, request: httpx.Request) -> httpx.Response:
    """`request` answered by `emulator` as its HTTP server would answer it."""
    asked = Request(
        request.method,
        request.url.path,
        dict(request.url.params),
        {name.lower(): value for name, value in request.headers.items()},
        _request_body(request),
    )
    answer = emulator.handle(asked)
    headers = dict(answer.headers)
    if isinstance(answer.body, bytes):
        return httpx.Response(answer.status, headers=headers, content=answer.body)
    headers.setdefault("content-type", "application/json")
    return httpx.Response(answer.status, headers=headers, content=json.dumps(answer.body))


@dataclass
class EmulatedHosts:
    """The four emulators of one test, each at its host; the news and prices of Tiingo and
    Finnhub come from one seeded world on the test's clock."""

    clock: Clock
    seed: int = 7

    def __post_init__(self) -> None:
        self.world = NewsWorld(seed=self.seed, clock=self.clock)
        self.tiingo = TiingoEmulator(self.world, TIINGO_KEY)
        self.finnhub = FinnhubEmulator(self.world, FINNHUB_KEY)
        self.sendgrid = SendGridEmulator(SENDGRID_KEY, clock=self.clock)
        self.oidc = InProcessOidc(OIDC_CLIENT)
        self.by_host: dict[str, HttpEmulator] = {
            "tiingo.test": self.tiingo,
            "finnhub.test": self.finnhub,
            "sendgrid.test": self.sendgrid,
            "oidc.test": self.oidc,
        }

    def answer(self, request: httpx.Request) -> httpx.Response | None:
        """The emulator's answer when `request` is for one of them, else None."""
        emulator = self.by_host.get(request.url.host)
        return emulator_answer(emulator, request) if emulator is not None else None

    def transport(self) -> httpx.MockTransport:
        """For the API's own clients (adapters, chaos switches): every emulator, nothing else."""

        def handle(request: httpx.Request) -> httpx.Response:
            answer = self.answer(request)
            if answer is None:
                raise httpx.ConnectError(f"no emulator at {request.url.host}", request=request)
            return answer

        return httpx.MockTransport(handle)

    def client(self, base_url: str = "", headers: dict[str, str] | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=base_url, headers=headers, transport=self.transport(), timeout=5.0
        )


@dataclass
class EmulatedMail:
    """The API's e-mail provider: each message is sent to the SendGrid emulator as SendGrid's
    client would send it (the v3 mail body, the key as bearer)."""

    sendgrid: SendGridEmulator
    from_address: str
    from_name: str | None = None

    def send(self, message: EmailMessage) -> SentEmail:
        mail = Mail(
            from_email=From(self.from_address, self.from_name),
            to_emails=To(message.to),
            subject=message.subject,
            plain_text_content=message.text,
            html_content=message.html,
        )
        if message.reference:
            mail.header = Header(REFERENCE_HEADER, message.reference)
        headers = {"authorization": f"Bearer {SENDGRID_KEY}"}
        answer = self.sendgrid.handle(Request("POST", SEND_PATH, {}, headers, mail.get()))
        if answer.status != 202:
            raise ProviderUnavailableError("sendgrid", f"the emulator answered {answer.status}")
        return SentEmail(message_id=answer.headers.get("X-Message-Id"), status=answer.status)


_STEP = {"1": 1, "5": 5, "15": 15, "30": 30, "60": 60}


def _bar_times(start: datetime, end: datetime, resolution: Resolution) -> Iterator[datetime]:
    """Bars between `start` and `end`: one a day at midnight UTC, or every few minutes from
    14:30 to 21:00 UTC. Every day, weekends too: a day with seeded sentiment always has a
    price, whichever day of the week a test runs on."""
    day = datetime(start.year, start.month, start.day, tzinfo=UTC)
    while day <= end:
        if resolution == "D":
            yield day
        else:
            step = timedelta(minutes=_STEP[resolution])
            moment = day + timedelta(hours=14, minutes=30)
            while moment < day + timedelta(hours=21):
                if start <= moment <= end:
                    yield moment
                moment += step
        day += timedelta(days=1)


class SteadyPrices:
    """The API's prices source: made-up but plausible candles in the adapters' model, the
    same for the same ticker and time, behind the API's real price caches."""

    def fetch_candles(
        self, ticker: str, start: datetime, end: datetime, resolution: Resolution
    ) -> list[Candle]:
        level = 50.0 + sum(map(ord, ticker)) % 200
        bars = []
        for n, moment in enumerate(_bar_times(start, end, resolution)):
            opened = level + (n % 7) - 3
            closed = opened + (1.5 if n % 2 else -1.0)
            high, low = max(opened, closed) + 1, min(opened, closed) - 1
            bars.append(Candle(moment, opened, high, low, closed, 1000 + 10 * n))
        return bars


def location_query(location: str) -> dict[str, list[str]]:
    """The query of a redirect's `Location`."""
    return parse_qs(urlsplit(location).query)

"""The dashboard API as the workbench's unit tests meet it: the real function
(`services.functions.dashboard`) over the in-memory store, behind an `httpx.MockTransport`
that turns each request into the Function URL's payload 2.0 event and its result back into
an HTTP answer. The emulators the workbench reads (SendGrid's outbox, the OpenID provider)
and the ones the API calls are the project's own, in this process (`emulated.py`); the local
stack's part (ingestion, analysis, metrics, live accuracy) is `runtime.py`.

Two things the real API has no switch for are kept here: an API without the operator routes
(`ops_routes=False` answers them 404, as a deployment that predates them would) and the
`requests` the workbench made, for tests that count them.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from services.adapters.errors import ProviderError, ProviderUnavailableError
from services.api.dependencies import ApiDependencies
from services.api.errors import error_body
from services.clock import utc_now
from services.functions.dashboard import Dashboard, build_dashboard
from services.local.function_url_event import build_event, http_answer, invoke, joined_headers
from services.resilience.chaos import chaos_switches
from services.resilience.quota_rules import period_of
from services.settings import Settings, watchlist
from services.store.errors import NotFoundError, TokenExpiredError, TokenUsedError
from services.store.memory import MemoryStore
from services.store.sessions import token_hash
from tests.unit.support.memory_api import memory_api_dependencies
from tests.unit.workbench import seed
from tests.unit.workbench.emulated import (
    OIDC,
    OIDC_CLIENT,
    SENDGRID,
    EmulatedHosts,
    EmulatedMail,
    SteadyPrices,
    location_query,
)
from tests.unit.workbench.runtime import LocalRuntime, provider_settings
from workbench.client import ApiClient

__all__ = ["API", "OIDC", "SENDGRID", "MemoryApi", "location_query"]

API = "http://api.test"
WORKBENCH = "http://workbench.test/app"
OPERATOR_TOKEN = "operator-secret"
# Tickers with a scored history in a seeded store: the default watchlist and the examples
# the tests use besides.
EXTRA_TICKERS = ("AMAT",)
HISTORY_DAYS = 3
PENDING = 2
_LINK_TOKEN = re.compile(r"magic_token=([A-Za-z0-9_-]+)")


@dataclass
class StillClock:
    """The API's, the store's and the emulators' time: still unless a test moves it. It starts
    at the wall clock's time, which the OpenID emulator signs its ID tokens with."""

    now: datetime = field(default_factory=utc_now)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def api_settings(**changes: Any) -> Settings:
    """The API's settings: every provider at its emulator, the operator token known, OAuth
    with the emulated provider, links back to the workbench."""
    settings = Settings(
        environment="local",
        operator_token_sha256=token_hash(OPERATOR_TOKEN),
        sendgrid_base_url=SENDGRID,
        chaos_emulator_hosts="tiingo.test,finnhub.test,sendgrid.test",
        oauth_issuer=OIDC,
        oauth_client_id=OIDC_CLIENT,
        oauth_redirect_uri=WORKBENCH,
        magic_link_url=WORKBENCH,
        # A test replays in milliseconds what a person does in minutes.
        rate_limit_enabled=False,
    )
    return provider_settings(settings).model_copy(update=changes)


@dataclass
class MemoryApi:
    """One test's API, its store and its emulators. `seeded`: the store holds what a stack
    that ran for a while holds (`seed.py`); otherwise nothing."""

    seeded: bool = True
    ops_routes: bool = False
    # The local stack serves live accuracy; a deployed API does not have the route.
    accuracy_route: bool = True
    operator_token: str = OPERATOR_TOKEN
    # Where `make model` would write the card; nothing is there until a test writes one.
    model_card_path: Path = field(
        default_factory=lambda: Path(tempfile.gettempdir()) / f"card-{uuid.uuid4().hex}.json"
    )
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.clock = StillClock()
        self.memory = MemoryStore.empty(self.clock)
        self.hosts = EmulatedHosts(self.clock)
        self.prices = SteadyPrices()
        self.settings = api_settings()
        self.runtime = LocalRuntime(self.settings, self.memory, self.hosts, self.clock)
        # How the API sends e-mail: into SendGrid's emulator.
        self.mail = EmulatedMail(
            self.hosts.sendgrid, self.settings.email_from_address, self.settings.email_from_name
        )
        self._dashboard: Dashboard | None = None
        if self.seeded:
            tickers = [*watchlist(self.settings), *EXTRA_TICKERS]
            seed.scored_history(self.memory, self.clock(), tickers, HISTORY_DAYS)
            seed.pending(self.memory, self.clock(), PENDING)

    # --- what tests set and read --------------------------------------------------------

    def reconfigure(self, **changes: Any) -> None:
        """New settings, as a redeployment brings: the next request meets a new function
        (its caches empty) over the same store."""
        self.settings = self.settings.model_copy(update=changes)
        self._dashboard = None

    @property
    def max_anonymous(self) -> int:
        return self.settings.max_configs_anonymous

    @property
    def max_account(self) -> int:
        return self.settings.max_configs_account

    @property
    def max_tickers(self) -> int:
        return self.settings.max_tickers_per_config

    @property
    def ingestion_runs(self) -> int:
        return self.runtime.ingestion_runs

    def run_ingestion(self) -> dict[str, Any]:
        """One cycle of the local stack, a second after whatever came before: no two clicks
        are in the same second, and providers count some of their limits per second."""
        self.clock.advance(1)
        return self.runtime.run_ingestion()

    def use_quota(self, quota: str, used: int) -> None:
        """Bring `quota` (`tiingo:requests_per_hour`) to `used` in its current period, as the
        counts of every instance add up in the store."""
        name = quota.split(":")[1]
        counts, kind = name.split("_per_")
        now = self.clock()
        period = period_of(kind, now)  # type: ignore[arg-type]
        store = self.memory.quotas
        if counts == "symbols":
            symbols = {f"SYM{n}" for n in range(used)}
            store.add_symbols(quota, period.key, symbols, cap=None, now=now, expires_at=period.end)
        else:
            more = used - store.get(quota, period.key)
            store.add(quota, period.key, more, now=now, expires_at=period.end)

    def fail_provider(self, service: str, times: int) -> None:
        """`times` calls to `service` fail as an unreachable provider's do, through the guard
        of the ingestion cycle: its circuit counts them, and opens at the threshold."""

        def unreachable() -> None:
            raise ProviderUnavailableError(service, "connection refused")

        for _ in range(times):
            with contextlib.suppress(ProviderError):
                self.runtime.guard.call(service, unreachable)

    def start_trial(self, service: str) -> None:
        """Once `service`'s open circuit may be tried again, a call takes the trial (the
        circuit is half-open) and has not answered yet."""
        self.clock.advance(self.settings.circuit_open_timeout_s + 1)
        self.runtime.guard.breaker(service).before_call()

    def write_model_card(self, card: dict[str, Any]) -> None:
        """The card `make model` writes, where the API reads it."""
        self.model_card_path.write_text(json.dumps(card))

    def revoke_every_session(self) -> None:
        """Every live session revoked, as sign-outs through other instances would."""
        now, sessions = self.clock(), self.memory.sessions
        for session in list(sessions.by_token.values()):
            if session.is_active(now):
                sessions.revoke(session, now)

    def sent_links(self) -> list[str]:
        """The sign-in tokens of the e-mails SendGrid's emulator received, oldest first."""
        texts = (str(message.text) for message in self.hosts.sendgrid.outbox())
        return [found for text in texts for found in _LINK_TOKEN.findall(text)]

    def link_unused(self, token: str) -> bool:
        """Whether the sign-in link of `token` may still be used."""
        try:
            self.memory.tokens.peek(token_hash(token), "magic_link", self.clock())
        except (NotFoundError, TokenUsedError, TokenExpiredError):
            return False
        return True

    def read_sentiment(self, times: int) -> None:
        """A new session reads its configuration's sentiment `times` times through the API:
        the first read misses its cache, the others hit it."""
        with httpx.Client(base_url=API, transport=httpx.MockTransport(self.call_api)) as http:
            token = http.post("/api/v2/auth/anonymous").json()["token"]
            bearer = {"authorization": f"Bearer {token}"}
            body = {"name": "Reads", "tickers": ["AAPL"]}
            config = http.post("/api/v2/configurations", json=body, headers=bearer).json()
            for _ in range(times):
                path = f"/api/v2/configurations/{config['config_id']}/sentiment"
                http.get(path, headers=bearer).raise_for_status()

    def client(self) -> ApiClient:
        return ApiClient(API, transport=httpx.MockTransport(self.handle))

    # --- the function --------------------------------------------------------------------

    @property
    def deps(self) -> ApiDependencies:
        return self.dashboard.deps

    @property
    def dashboard(self) -> Dashboard:
        if self._dashboard is None:
            self._dashboard = build_dashboard(self._dependencies())
        return self._dashboard

    def _dependencies(self) -> ApiDependencies:
        settings, runtime = self.settings, self.runtime
        chaos = chaos_switches(settings, client=self.hosts.client())
        return memory_api_dependencies(
            settings,
            self.memory,
            clock=self.clock,
            prices_source=self.prices,
            email_sender=self.mail,
            chaos=chaos,
            # The OAuth callback's code exchange and key fetch reach the emulated provider.
            oidc_http=self.hosts.client(),
            ingestion_runner=self.run_ingestion,
            pipeline_stats=runtime.pipeline_stats,
            metrics_runner=runtime.run_metrics,
            live_accuracy=runtime.live_accuracy if self.accuracy_route else None,
            model_card_path=self.model_card_path,
        )

    def handle(self, request: httpx.Request) -> httpx.Response:
        """What the workbench's client reaches: an emulator, or the API."""
        self.requests.append(f"{request.method} {request.url.path}")
        answer = self.hosts.answer(request)
        return answer if answer is not None else self.call_api(request)

    def call_api(self, request: httpx.Request) -> httpx.Response:
        if not self.ops_routes and request.url.path.startswith("/api/v2/ops/"):
            body = error_body("NOT_FOUND", f"no route for {request.method} {request.url.path}")
            return httpx.Response(404, content=body, headers={"content-type": "application/json"})
        event = build_event(
            method=request.method,
            raw_path=request.url.raw_path.decode(),
            headers=joined_headers(request.headers.multi_items()),
            body=request.content,
            source_ip="127.0.0.1",
            domain="api.test",
        )
        result = invoke(self.dashboard, event, "dashboard")
        answer = http_answer(result)
        return httpx.Response(answer.status, headers=answer.headers, content=answer.payload)

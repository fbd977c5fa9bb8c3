"""What the emulators share: a threaded HTTP server on 127.0.0.1, faults and control routes.

`HttpEmulator` is any provider (SendGrid, ...); `EmulatorServer` adds the news world that the
Tiingo and Finnhub emulators serve. Provider routes answer in the provider's wire format.
Routes under `/_emulator/` are the control plane for tests and the workbench (they exist only
here, never at the provider):

- `GET  /_emulator/health`            liveness
- `GET  /_emulator/emitted`           the oracle: every story this emulator returned (news only)
- `POST /_emulator/news`              inject stories: {"ticker", "count", "tone"} (news only)
- `POST /_emulator/faults`            {"mode": "http_500" | "http_429" | "slow", "duration_s",
                                      "delay_s"}; `DELETE` clears it
- `GET  /_emulator/plan`              (emulators with plans) the plan played: {"plan",
                                      "limits", "premium", "remaining_s", "not_in_plan"}
- `POST /_emulator/plan`              {"plan": "free" | "paid", "duration_s"}: switch plans
                                      at run time; with `duration_s` only for that long
                                      (like a fault), then the plan set without one returns;
                                      `DELETE` ends such a timed plan at once
- `GET  /_emulator/usage`             what the plan's limits counted: {"plan", "requests",
                                      "limits": {name: {"limit", "used", "refused",
                                      "requests", "unit", "period", "period_start",
                                      "resets_at"}}}; `DELETE` zeroes it

Plans (`PlanMeter`). An emulator with plans plays the provider's free or paid plan (`plan=`,
default "paid"): on the free plan the provider's premium endpoints answer its own 403 (counted
as `not_in_plan`, since start), and every plan has limits per calendar period (UTC) of the
emulator's clock, so a test drives their resets by moving that clock. Every authorized request
to a provider route counts, one unit per HTTP request (control routes never do); the first
limit already spent refuses it, in the provider's own words. A refused request uses up nothing;
an admitted one uses one unit of each request limit (a premium endpoint's 403 too: the provider
answered it) and adds the symbols it looks up to a symbol limit's set (none for a premium
endpoint's 403).
In the usage, per limit and for its current period: `used` is what the allowance spent
(admitted requests, or distinct symbols), `refused` the requests that limit turned away, and
`requests` every request counted, admitted or not: what a client counting its own calls
counts. `limit` is null for none; the top-level `requests` counts since start (or `DELETE`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Literal, Protocol, Self
from urllib.parse import parse_qs, urlsplit

from services.clock import Clock, iso
from services.local.emulators.world import PROVIDERS, NewsWorld, ProviderName, Story
from services.local.processes import PortInUseError

LOG = logging.getLogger(__name__)
FaultMode = Literal["http_500", "http_429", "slow"]
FAULT_MODES: tuple[FaultMode, ...] = ("http_500", "http_429", "slow")
TONES = ("positive", "negative", "neutral")
Plan = Literal["free", "paid"]
PLANS: tuple[Plan, ...] = ("free", "paid")
PeriodKind = Literal["second", "minute", "hour", "day", "month"]
Unit = Literal["request", "symbol"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any = None


@dataclass(frozen=True)
class Response:
    """`body` is sent as JSON, except bytes, which are sent as they are (b"" for no body)."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass
class FaultSwitch:
    """A fault that lasts until `until` (monotonic seconds), or until cleared."""

    mode: FaultMode | None = None
    until: float = 0.0
    delay_s: float = 2.0
    injected: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, mode: FaultMode, duration_s: float, delay_s: float = 2.0) -> None:
        with self._lock:
            self.mode, self.until, self.delay_s = mode, time.monotonic() + duration_s, delay_s

    def clear(self) -> None:
        with self._lock:
            self.mode = None

    def active(self) -> FaultMode | None:
        with self._lock:
            self._expire()
            if self.mode is not None:
                self.injected += 1
            return self.mode

    def describe(self) -> dict[str, Any]:
        with self._lock:
            # A fault past its duration is over, even before a request has noticed.
            self._expire()
            remaining = max(0.0, self.until - time.monotonic()) if self.mode else 0.0
            return {
                "mode": self.mode,
                "remaining_s": round(remaining, 1),
                "injected": self.injected,
            }

    def _expire(self) -> None:
        if self.mode is not None and time.monotonic() >= self.until:
            self.mode = None


class RateWindow:
    """At most `per_minute` calls in any rolling minute (the provider's plan limit); 0 = off."""

    def __init__(self, per_minute: int = 0) -> None:
        self.per_minute = per_minute
        self._calls: list[float] = []
        self._lock = threading.Lock()

    def admit(self) -> float | None:
        """None when admitted, else the seconds until a call would be."""
        if self.per_minute <= 0:
            return None
        now = time.monotonic()
        with self._lock:
            self._calls = [t for t in self._calls if now - t < 60.0]
            if len(self._calls) >= self.per_minute:
                return 60.0 - (now - self._calls[0])
            self._calls.append(now)
            return None


def period_bounds(kind: PeriodKind, moment: datetime) -> tuple[datetime, datetime]:
    """The calendar period of `kind` (UTC) that holds `moment`: its start and the next one's."""
    at = moment.astimezone(UTC)
    if kind == "month":
        start = at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if start.month == 12:
            return start, start.replace(year=start.year + 1, month=1)
        return start, start.replace(month=start.month + 1)
    if kind == "day":
        start = at.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    if kind == "hour":
        start = at.replace(minute=0, second=0, microsecond=0)
        return start, start + timedelta(hours=1)
    if kind == "minute":
        start = at.replace(second=0, microsecond=0)
        return start, start + timedelta(minutes=1)
    start = at.replace(microsecond=0)
    return start, start + timedelta(seconds=1)


@dataclass(frozen=True)
class Allowance:
    """One limit of a plan: `limit` units per calendar `period`; 0 is no limit (still counted).

    A "request" unit is one admitted request; a "symbol" unit is one distinct symbol named by
    the period's admitted requests (Tiingo's unique symbols a month)."""

    name: str
    period: PeriodKind
    limit: int
    unit: Unit = "request"


class PlanLimits(Protocol):
    """One plan's limits as a provider states them (`TiingoLimits`, `SendGridLimits`, ...)."""

    def allowances(self) -> tuple[Allowance, ...]: ...


@dataclass
class _Tally:
    start: datetime
    end: datetime
    used: int = 0
    refused: int = 0
    requests: int = 0
    symbols: set[str] = field(default_factory=set)


class PlanMeter:
    """The plan an emulator plays and what its limits counted, on the emulator's clock."""

    def __init__(
        self, clock: Clock, plans: Mapping[Plan, Sequence[Allowance]], plan: Plan = "paid"
    ) -> None:
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}, not {plan!r}")
        for allowance in (a for limits in plans.values() for a in limits):
            if allowance.limit < 0:
                raise ValueError(f"{allowance.name}: a limit is a count, 0 for none")
        self.clock = clock
        self.plans = {name: tuple(plans.get(name, ())) for name in PLANS}
        self._plan: Plan = plan
        # A plan played for a while (`play(plan, duration_s)`): (plan, monotonic end). It ends
        # on the wall clock, like a fault, not on the emulator's clock, which a test may move
        # by hours at once.
        self._timed: tuple[Plan, float] | None = None
        # Per limit name, so a tally outlives a switch of plans within its period (as a
        # provider's counter does when an account is upgraded).
        self._tallies: dict[str, _Tally] = {}
        self._total = 0
        self._lock = threading.Lock()

    @classmethod
    def of(cls, clock: Clock, free: PlanLimits, paid: PlanLimits, plan: Plan = "paid") -> Self:
        """A meter of a provider's free and paid plans, playing `plan`."""
        return cls(clock, {"free": free.allowances(), "paid": paid.allowances()}, plan)

    @property
    def plan(self) -> Plan:
        """The plan played now: a timed one while it lasts, else the one set for good."""
        timed = self._timed
        if timed is not None and time.monotonic() < timed[1]:
            return timed[0]
        return self._plan

    @plan.setter
    def plan(self, plan: Plan) -> None:
        self.play(plan)

    def play(self, plan: Plan, duration_s: float | None = None) -> None:
        """Play `plan` for good (ending any timed plan), or for `duration_s` seconds, after
        which the plan set for good returns by itself."""
        if plan not in PLANS:
            raise ValueError(f"plan must be one of {', '.join(PLANS)}, not {plan!r}")
        with self._lock:
            if duration_s is None:
                self._plan, self._timed = plan, None
            else:
                self._timed = (plan, time.monotonic() + duration_s)

    def end_timed(self) -> None:
        """Back to the plan set for good now, before a timed plan's end."""
        with self._lock:
            self._timed = None

    def remaining_s(self) -> float:
        """Seconds left of a timed plan; 0 when the plan is the one set for good."""
        timed = self._timed
        return max(0.0, timed[1] - time.monotonic()) if timed is not None else 0.0

    @property
    def allowances(self) -> tuple[Allowance, ...]:
        return self.plans[self.plan]

    def charge(self, symbols: Iterable[str] = ()) -> Allowance | None:
        """Count one request looking up `symbols`: None when admitted, else the limit refusing
        it. The limits are tried in the plan's order (the shortest period first); the first
        one spent refuses the request."""
        wanted = {s.strip().upper() for s in symbols if s.strip()}
        now = self.clock()
        with self._lock:
            self._total += 1
            counted = [(a, self._tally(a, now)) for a in self.allowances]
            for _, tally in counted:
                tally.requests += 1
            for allowance, tally in counted:
                if allowance.limit and self._spent(allowance, tally, wanted):
                    tally.refused += 1
                    return allowance
            for allowance, tally in counted:
                if allowance.unit == "request":
                    tally.used += 1
                else:
                    tally.symbols |= wanted
                    tally.used = len(tally.symbols)
            return None

    def seconds_to_reset(self, allowance: Allowance) -> float:
        now = self.clock()
        _, end = period_bounds(allowance.period, now)
        return max(0.0, (end - now).total_seconds())

    def usage(self) -> dict[str, Any]:
        """`GET /_emulator/usage`: per limit of the current plan, this period's counts."""
        now = self.clock()
        with self._lock:
            limits = {
                allowance.name: self._describe(allowance, self._tally(allowance, now))
                for allowance in self.allowances
            }
            return {"plan": self.plan, "requests": self._total, "limits": limits}

    def describe(self) -> dict[str, Any]:
        """`GET /_emulator/plan` (without the premium endpoints, which the emulator adds)."""
        plan = self.plan
        return {
            "plan": plan,
            "limits": {
                a.name: {"limit": a.limit or None, "unit": a.unit, "period": a.period}
                for a in self.plans[plan]
            },
            "remaining_s": round(self.remaining_s(), 1),
        }

    def reset(self) -> None:
        with self._lock:
            self._tallies.clear()
            self._total = 0

    def _tally(self, allowance: Allowance, now: datetime) -> _Tally:
        start, end = period_bounds(allowance.period, now)
        tally = self._tallies.get(allowance.name)
        if tally is None or tally.start != start:
            tally = self._tallies[allowance.name] = _Tally(start, end)
        return tally

    @staticmethod
    def _spent(allowance: Allowance, tally: _Tally, wanted: set[str]) -> bool:
        if allowance.unit == "request":
            return tally.used >= allowance.limit
        return len(tally.symbols | wanted) > allowance.limit

    @staticmethod
    def _describe(allowance: Allowance, tally: _Tally) -> dict[str, Any]:
        return {
            "limit": allowance.limit or None,
            "used": tally.used,
            "refused": tally.refused,
            "requests": tally.requests,
            "unit": allowance.unit,
            "period": allowance.period,
            "period_start": iso(tally.start),
            "resets_at": iso(tally.end),
        }


Route = Callable[[Request], Response]


class HttpEmulator:
    """Base of every provider emulator: subclasses add routes, auth and error bodies."""

    provider: str
    # Paths (without a trailing slash) the provider keeps for paying plans.
    premium_paths: tuple[str, ...] = ()

    def __init__(self, api_key: str, *, port: int = 0, rate_limit_per_minute: int = 0) -> None:
        self.api_key = api_key
        self.port = port
        self.faults = FaultSwitch()
        self.rate = RateWindow(rate_limit_per_minute)
        self.requests = 0
        # The provider's plans, for an emulator that plays them (subclasses set it).
        self.meter: PlanMeter | None = None
        # Premium requests answered "not in your plan": what a plan switch injected.
        self.not_in_plan_answers = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._routes: list[tuple[str, Callable[[str], dict[str, str] | None], Route]] = []

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on 127.0.0.1; a restart after `stop` reuses the same port."""
        handler = _make_handler(self)
        try:
            server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        except OSError as error:
            raise PortInUseError(f"the {self.provider} emulator", "127.0.0.1", self.port) from error
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            # A short poll interval keeps `stop` quick (shutdown waits for the next poll).
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.provider}-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut open keep-alive connections: an outage, as a client sees it."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._connections_lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._connections.clear()

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._connections_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The base URL the adapter is configured with (the provider's API root)."""
        return self.root_url

    # --- provider hooks --------------------------------------------------------------------

    def authorized(self, request: Request) -> bool:
        raise NotImplementedError

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        raise NotImplementedError

    def route(
        self, method: str, pattern: Callable[[str], dict[str, str] | None], fn: Route
    ) -> None:
        self._routes.append((method, pattern, fn))

    def premium(self, request: Request) -> bool:
        """Whether the request is for an endpoint only paying plans may use."""
        return request.path.rstrip("/") in self.premium_paths

    def symbols(self, request: Request) -> tuple[str, ...]:
        """The symbols a request looks up (for a plan's limit on distinct symbols)."""
        return ()

    def over_limit(self, allowance: Allowance, retry_after_s: float) -> Response:
        """The provider's answer once a plan's limit is spent."""
        return self.rate_limited(retry_after_s)

    def not_in_plan(self, request: Request) -> Response:
        """The provider's answer to a premium endpoint on the free plan."""
        return self.error(403, "not available on your plan")

    @property
    def plan(self) -> Plan | None:
        return self.meter.plan if self.meter is not None else None

    @plan.setter
    def plan(self, plan: Plan) -> None:
        if self.meter is None:
            raise ValueError(f"the {self.provider} emulator plays no plans")
        self.meter.plan = plan

    # --- dispatch ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_emulator/"):
            return self._control(request)
        self.requests += 1
        fault = self.faults.active()
        if fault == "slow":
            time.sleep(self.faults.delay_s)
        elif fault == "http_500":
            return self.error(500, "Internal Server Error")
        elif fault == "http_429":
            return self.rate_limited(30.0)
        if not self.authorized(request):
            return self.error(401, "invalid API key")
        wait = self.rate.admit()
        if wait is not None:
            return self.rate_limited(wait)
        if self.meter is not None:
            refusal = self._metered(request, self.meter)
            if refusal is not None:
                return refusal
        for method, pattern, fn in self._routes:
            params = pattern(request.path)
            if params is not None and method == request.method:
                try:
                    return fn(Request(**{**request.__dict__, "query": {**request.query, **params}}))
                except HttpError as error:
                    return error.response
        return self.error(404, f"no route for {request.method} {request.path}")

    def rate_limited(self, retry_after_s: float) -> Response:
        response = self.error(429, "rate limit exceeded")
        return Response(429, response.body, {"Retry-After": str(max(1, round(retry_after_s)))})

    def _metered(self, request: Request, meter: PlanMeter) -> Response | None:
        """The plan's answer when it does not let the request through, else None."""
        premium = meter.plan == "free" and self.premium(request)
        # A premium endpoint refused looks nothing up: it names no symbol to the plan.
        spent = meter.charge(() if premium else self.symbols(request))
        if spent is not None:
            return self.over_limit(spent, meter.seconds_to_reset(spent))
        if not premium:
            return None
        self.not_in_plan_answers += 1
        return self.not_in_plan(request)

    def describe_plan(self, meter: PlanMeter) -> dict[str, Any]:
        return {
            **meter.describe(),
            "premium": list(self.premium_paths),
            "not_in_plan": self.not_in_plan_answers,
        }

    def _control(self, request: Request) -> Response:
        path = request.path
        if path == "/_emulator/health":
            return Response(200, {"status": "ok", "provider": self.provider})
        if path in ("/_emulator/plan", "/_emulator/usage") and self.meter is not None:
            return self._plan_control(request, self.meter)
        if path == "/_emulator/faults":
            if request.method == "DELETE":
                self.faults.clear()
                return Response(200, self.faults.describe())
            if request.method == "POST":
                return self._set_fault(request.body)
            return Response(200, self.faults.describe())
        return Response(404, {"detail": f"no control route {request.method} {path}"})

    def _plan_control(self, request: Request, meter: PlanMeter) -> Response:
        if request.path == "/_emulator/usage":
            if request.method == "DELETE":
                meter.reset()
                return Response(200, meter.usage())
            if request.method == "GET":
                return Response(200, meter.usage())
        elif request.method == "POST":
            return self._set_plan(request.body, meter)
        elif request.method == "DELETE":
            meter.end_timed()
            return Response(200, self.describe_plan(meter))
        elif request.method == "GET":
            return Response(200, self.describe_plan(meter))
        return Response(405, {"detail": f"{request.method} is not allowed on {request.path}"})

    def _set_plan(self, body: Any, meter: PlanMeter) -> Response:
        if not isinstance(body, dict) or body.get("plan") not in PLANS:
            return Response(400, {"detail": f"'plan' must be one of {', '.join(PLANS)}"})
        duration = body.get("duration_s")
        # (JSON's true is an int to Python: not a duration.)
        number = isinstance(duration, int | float) and not isinstance(duration, bool)
        if duration is not None and not (number and 0 < duration <= 3600):
            return Response(400, {"detail": "'duration_s' must be in (0, 3600]"})
        meter.play(body["plan"], None if duration is None else float(duration))
        return Response(200, self.describe_plan(meter))

    def _set_fault(self, body: Any) -> Response:
        if not isinstance(body, dict) or body.get("mode") not in FAULT_MODES:
            return Response(400, {"detail": f"'mode' must be one of {', '.join(FAULT_MODES)}"})
        duration, delay = body.get("duration_s", 30.0), body.get("delay_s", 2.0)
        if not all(isinstance(v, int | float) and 0 < v <= 3600 for v in (duration, delay)):
            return Response(400, {"detail": "'duration_s' and 'delay_s' must be in (0, 3600]"})
        self.faults.set(body["mode"], float(duration), float(delay))
        return Response(200, self.faults.describe())


class EmulatorServer(HttpEmulator):
    """Base of the Tiingo and Finnhub emulators: a provider serving the shared news world,
    playing its free or paid plan (`plan`); `free_limits` and `paid_limits` replace the
    provider's own limits (`free_plan`, `paid_plan`)."""

    provider: ProviderName
    free_plan: ClassVar[PlanLimits]
    paid_plan: ClassVar[PlanLimits]

    def __init__(
        self,
        world: NewsWorld,
        api_key: str,
        *,
        plan: Plan = "paid",
        free_limits: PlanLimits | None = None,
        paid_limits: PlanLimits | None = None,
        port: int = 0,
        rate_limit_per_minute: int = 0,
    ) -> None:
        super().__init__(api_key, port=port, rate_limit_per_minute=rate_limit_per_minute)
        self.world = world
        free, paid = free_limits or self.free_plan, paid_limits or self.paid_plan
        self.meter = PlanMeter.of(self.now, free, paid, plan)

    def now(self) -> datetime:
        """The world's clock: the one the plans' periods run on."""
        return self.world.clock()

    def emit(self, stories: list[Story]) -> None:
        self.world.record_emitted(self.provider, stories)

    def _control(self, request: Request) -> Response:
        if request.path == "/_emulator/emitted" and request.method == "GET":
            return Response(200, [_story_json(s) for s in self.world.emitted(self.provider)])
        if request.path == "/_emulator/news" and request.method == "POST":
            return self._inject(request.body)
        return super()._control(request)

    def _inject(self, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("ticker"), str):
            return Response(400, {"detail": "body must be a JSON object with a 'ticker'"})
        count, tone = body.get("count", 1), body.get("tone")
        if not isinstance(count, int) or not 1 <= count <= 10_000:
            return Response(400, {"detail": "'count' must be an integer from 1 to 10000"})
        if tone is not None and tone not in TONES:
            return Response(400, {"detail": f"'tone' must be one of {', '.join(TONES)}"})
        try:
            stories = self.world.inject(body["ticker"], count, tone=tone)
        except ValueError as error:
            return Response(400, {"detail": str(error)})
        return Response(201, [_story_json(s) for s in stories])


def _story_json(story: Story) -> dict[str, Any]:
    return {
        "story_id": story.story_id,
        "title": story.title,
        "url": story.url,
        "published_at": story.published_at.isoformat(),
        "tickers": list(story.tickers),
        "tone": story.tone,
        "headline": story.headline,
        "providers": [p for p in PROVIDERS if p in story.providers],
    }


def _decode_body(raw: bytes, content_type: str) -> Any:
    """JSON, or an HTML form's fields (OAuth's token endpoint takes a form); None if neither."""
    if not raw:
        return None
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return {name: values[-1] for name, values in fields.items()}
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _make_handler(emulator: HttpEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            emulator.track(self.connection, open_=True)

        def finish(self) -> None:
            emulator.track(self.connection, open_=False)
            super().finish()

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = _decode_body(raw, self.headers.get("Content-Type", ""))
            request = Request(
                self.command,
                parts.path,
                {k: v[-1] for k, v in parse_qs(parts.query).items()},
                {k.lower(): v for k, v in self.headers.items()},
                body,
            )
            try:
                response = emulator.handle(request)
            except Exception:
                LOG.exception("%s emulator failed on %s", emulator.provider, parts.path)
                response = emulator.error(500, "Internal Server Error")
            raw_body = isinstance(response.body, bytes)
            payload = response.body if raw_body else json.dumps(response.body).encode()
            self.send_response(response.status)
            if not raw_body:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            # A client that gave up (its timeout under a `slow` fault) is no error of ours.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: Any) -> None:
            # The path only: a query string may carry the caller's token.
            path = urlsplit(self.path).path
            LOG.debug("%s emulator %s %s", emulator.provider, self.command, path)

    return Handler

"""The generator's HTTP side: an async httpx client that records every request it sends and
tells a progress callback about each one as it completes."""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.traffic.stats import Answered, RequestRecord, Summary, summarize
from services.traffic.target import Target

LOG = logging.getLogger(__name__)

# Statuses every scenario takes as the system behaving: a 429 is the limiter doing its job.
ALWAYS_EXPECTED: frozenset[int] = frozenset({429})
DEFAULT_TIMEOUT_S = 30.0
# An ingestion cycle against slow providers takes a while; the ops route waits for it.
LONG_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Progress:
    """What a run has done so far; handed to the progress callback after every request (with
    `record`) and at every step of a scenario (`record` None, `message` saying what it does).

    `records` is the run's own list, growing as requests complete: read it in the callback,
    copy it if it is kept. `total` is the number of requests planned when a scenario knows it
    (load, rate limit), else None.

    The callback runs on the thread of the event loop running the scenario, between requests:
    keep it short (a GUI hands the figures to its own thread or loop).
    """

    scenario: str
    message: str
    done: int
    total: int | None
    elapsed_s: float
    record: RequestRecord | None
    records: Sequence[RequestRecord]

    @property
    def fraction(self) -> float | None:
        """Share of the planned requests done, for a progress bar (None when unknown)."""
        return min(1.0, self.done / self.total) if self.total else None

    @property
    def rate_per_s(self) -> float:
        return self.done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def status_counts(self) -> dict[int, int]:
        return dict(Counter(r.status for r in self.records))

    @property
    def latencies_ms(self) -> list[float]:
        """Round trips of the requests that got an answer, for a latency histogram."""
        return [r.latency_ms for r in self.records if r.status]

    def summary(self) -> Summary:
        return summarize(self.records)


ProgressCallback = Callable[[Progress], None]


@dataclass
class Answer(Answered):
    """A response as the scenarios use it: status, JSON body (None if not JSON), headers."""

    status: int
    body: Any
    headers: Mapping[str, str]
    record: RequestRecord

    @property
    def error_code(self) -> str | None:
        return self.record.error_code


def _error_code(body: Any) -> str | None:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        return str(error["code"])
    return None


@dataclass
class Recorder:
    """The records of one scenario run, and the callback told about each."""

    scenario: str
    on_progress: ProgressCallback | None = None
    total: int | None = None
    records: list[RequestRecord] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def add(self, record: RequestRecord) -> None:
        self.records.append(record)
        self._tell(f"{record.method} {record.route} -> {record.status or record.failure}", record)

    def step(self, message: str, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        self._tell(message, None)

    def _tell(self, message: str, record: RequestRecord | None) -> None:
        if self.on_progress is None:
            return
        progress = Progress(
            scenario=self.scenario,
            message=message,
            done=len(self.records),
            total=self.total,
            elapsed_s=self.elapsed(),
            record=record,
            records=self.records,
        )
        try:
            self.on_progress(progress)
        except Exception:
            # A display that fails must not stop the traffic it displays.
            LOG.exception("progress callback failed")


class TrafficClient:
    """Sends the scenarios' requests to one target and records each in a `Recorder`."""

    def __init__(
        self,
        target: Target,
        recorder: Recorder,
        *,
        max_connections: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.target = target
        self.recorder = recorder
        self._http = httpx.AsyncClient(
            base_url=target.api_url,
            timeout=DEFAULT_TIMEOUT_S,
            limits=httpx.Limits(max_connections=max_connections),
            transport=transport,
        )

    async def __aenter__(self) -> TrafficClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        bearer: str | None = None,
        operator: bool = False,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        expect: Collection[int] = (),
        route: str | None = None,
        timeout_s: float | None = None,
    ) -> Answer:
        """One request; never raises for HTTP or transport failures (status 0 for the latter).

        `expect`: statuses besides 2xx and 429 that this request may meet without it being a
        fault. `route`: the name it is recorded under (the path template), else the path.
        """
        headers = self.target.authorization(bearer, operator=operator)
        started = time.perf_counter()
        status, body, answer_headers, failure = 0, None, httpx.Headers(), None
        try:
            response = await self._http.request(
                method,
                path,
                headers=headers,
                json=json_body,
                params=params,
                timeout=timeout_s or DEFAULT_TIMEOUT_S,
            )
            status, answer_headers = response.status_code, response.headers
            try:
                body = response.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = None
        except httpx.HTTPError as error:
            failure = type(error).__name__
        latency_ms = (time.perf_counter() - started) * 1000
        record = RequestRecord(
            scenario=self.recorder.scenario,
            method=method,
            route=route or path,
            status=status,
            latency_ms=latency_ms,
            started_s=started - self.recorder.started,
            expected=(200 <= status < 300) or status in ALWAYS_EXPECTED or status in expect,
            error_code=_error_code(body),
            cache=answer_headers.get("x-cache"),
            retry_after=answer_headers.get("retry-after"),
            failure=failure,
        )
        self.recorder.add(record)
        return Answer(status, body, answer_headers, record)

    # -- the calls several scenarios make ----------------------------------------------------

    async def anonymous_session(self) -> str | None:
        answer = await self.request("POST", "/api/v2/auth/anonymous")
        token = answer.body.get("token") if answer.ok and isinstance(answer.body, dict) else None
        return str(token) if token else None

    async def create_configuration(
        self, bearer: str, name: str, tickers: Sequence[str]
    ) -> str | None:
        answer = await self.request(
            "POST",
            "/api/v2/configurations",
            bearer=bearer,
            json_body={"name": name, "tickers": list(tickers)},
        )
        config = answer.body.get("config_id") if isinstance(answer.body, dict) else None
        return str(config) if answer.ok and config else None

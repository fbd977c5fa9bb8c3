"""The traffic generator run from the page: the scenarios of `services.traffic` against the API
the workbench reads, with what a run has done so far and the summary the CLI prints.

The run is a coroutine on the page's event loop (the generator's client is async), so the
page keeps answering while it runs; Cancel cancels that task. The progress callback is told
about every request, but the params the page draws from move at most every
`update_interval_s` (the charts every `chart_interval_s`), and once more when the run ends.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import param

from services.traffic import (
    SCENARIO_NAMES,
    Options,
    OptionsError,
    Progress,
    RequestRecord,
    ScenarioResult,
    Target,
    TargetRefusedError,
    run_scenario,
    table,
)
from services.traffic.report import failures
from services.traffic.scenarios.base import MAX_BURST, MAX_REQUESTS, MAX_USERS
from services.traffic.target import is_loopback_url

# Circuit-breaker and chaos switch faults on: they belong to the Chaos section.
SECTION_SCENARIOS: tuple[str, ...] = tuple(
    n for n in SCENARIO_NAMES if n not in ("circuit-breaker", "chaos")
)
ALL = "all"
OUTCOMES = ["", "passed", "failed checks", "cancelled", "error"]

Runner = Callable[..., Awaitable[ScenarioResult]]


def expand(scenario: str) -> list[str]:
    """The scenarios one choice runs: `all` is every scenario of this section, in order."""
    return list(SECTION_SCENARIOS) if scenario == ALL else [scenario]


class TrafficStore(param.Parameterized):
    scenario: str = param.Selector(  # type: ignore[assignment]
        default="basic", objects=[*SECTION_SCENARIOS, ALL]
    )
    users = param.Integer(default=5, bounds=(1, MAX_USERS), doc="load: concurrent users")
    requests = param.Integer(default=10, bounds=(1, MAX_REQUESTS), doc="load: reads per user")
    burst = param.Integer(default=50, bounds=(1, MAX_BURST), doc="rate-limit: burst size")

    running = param.Boolean(default=False)
    current = param.String(default="", doc="the scenario running now")
    step = param.String(default="", doc="what it is doing, in its own words")
    position = param.String(default="", doc="which of the chosen scenarios, e.g. 2 of 5")
    done = param.Integer(default=0, doc="requests answered (or failed) in this run")
    fraction = param.Number(
        default=None, allow_None=True, bounds=(0, 1), doc="share done; None when unknown"
    )
    elapsed_s = param.Number(default=0.0)
    rate_per_s = param.Number(default=0.0, doc="requests per second of the current scenario")
    status_counts = param.Dict(default={}, doc="HTTP status -> requests (0: no answer)")
    latencies_ms = param.List(default=[], item_type=float)
    records = param.List(default=[], doc="every request of the run, for the charts")
    summary_text = param.String(default="", doc="the CLI's summary table and its failures")
    results = param.List(default=[], doc="the ScenarioResults of the last run")
    outcome: str = param.Selector(default="", objects=OUTCOMES)  # type: ignore[assignment]
    error = param.String(default="", doc="why the run stopped or could not start")
    runs = param.Integer(default=0, doc="runs finished (any outcome)")

    update_interval_s = param.Number(default=0.25, bounds=(0, None))
    chart_interval_s = param.Number(default=1.0, bounds=(0, None))

    def __init__(
        self,
        api_url: str,
        operator_token: Callable[[], str | None] = lambda: None,
        *,
        runner: Runner = run_scenario,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.api_url = api_url.rstrip("/")
        # A callable, not the token: the secret never becomes a param.
        self._operator_token = operator_token
        self._runner = runner
        self._task: asyncio.Task[Any] | None = None
        self._finished: list[ScenarioResult] = []
        self._pending: Progress | None = None
        self._flush_handle: asyncio.TimerHandle | None = None
        self._published = 0.0
        self._charted = 0.0
        self._index = 0
        self._count = 1

    # -- running ------------------------------------------------------------------------------

    def target(self) -> Target:
        # The operator token never leaves this machine (the same rule as the CLI's --url).
        token = self._operator_token() if is_loopback_url(self.api_url) else None
        return Target(self.api_url, "local", token)

    def options(self) -> Options:
        return Options(users=self.users, requests=self.requests, burst=self.burst).validate()

    def start(self) -> None:
        """Schedule `run` on the page's event loop: param's executor, which Panel sets to its
        own when serving (the one that runs a coroutine click handler)."""
        if not self.running:
            param.parameterized.async_executor(self.run)  # type: ignore[attr-defined]

    async def run_default(self) -> None:
        """The section's result on its first view: the chosen scenario (the happy path by
        default, a dozen requests) started once, unless a run already happened."""
        if self.runs == 0:
            self.start()

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def run(self) -> None:
        """Run the chosen scenarios; returns when they end, fail or are cancelled."""
        if self.running:
            return
        names = expand(self.scenario)
        self._reset(names)
        # A task of its own, so Cancel stops the scenarios and nothing else on the loop.
        self._task = asyncio.create_task(self._run(names))
        try:
            await self._task
        finally:
            self._task = None

    async def _run(self, names: Sequence[str]) -> None:
        try:
            options = self.options()
            target = self.target()
            for index, name in enumerate(names):
                self._index = index
                result = await self._runner(name, target, options, on_progress=self._heard)
                self._finished.append(result)
                self._publish(None, final=True)
                self.fraction = (index + 1) / len(names)
            self._end(
                "passed" if all(r.ok for r in self._finished) else "failed checks",
                self._unreachable(),
            )
        except asyncio.CancelledError:
            self._end("cancelled", "Cancelled: the scenario in progress was stopped.")
        except TargetRefusedError:
            self._end(
                "error",
                f"{self.scenario} sends heavy traffic, so the workbench sends it only to an API "
                f"on this machine (127.0.0.1, ::1, localhost), and {self.api_url} is not one. "
                "To test a deployed API use the CLI: sentiment-traffic --env preprod.",
            )
        except OptionsError as problem:
            self._end("error", f"Check the inputs: {problem}.")
        except Exception as problem:  # shown on the page instead of a traceback
            self._end("error", f"The run stopped: {type(problem).__name__}: {problem}")

    def _reset(self, names: Sequence[str]) -> None:
        self._finished = []
        self._pending = None
        self._count = len(names)
        self._index = 0
        self._published = self._charted = 0.0
        self.param.update(
            running=True,
            current=names[0],
            step="starting",
            position=f"1 of {len(names)}" if len(names) > 1 else "",
            done=0,
            fraction=0.0,
            elapsed_s=0.0,
            rate_per_s=0.0,
            status_counts={},
            latencies_ms=[],
            records=[],
            summary_text="",
            results=[],
            outcome="",
            error="",
        )

    def _unreachable(self) -> str:
        records = [r for result in self._finished for r in result.records]
        if records and all(r.status == 0 for r in records):
            failure = records[0].failure or "no answer"
            return f"No answer from {self.api_url} ({failure}): is the API running?"
        return ""

    def _end(self, outcome: str, error: str) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        pending = self._pending
        if pending is not None and not any(r.records is pending.records for r in self._finished):
            # What a stopped scenario did so far is still worth a row.
            self._finished.append(ScenarioResult(pending.scenario, list(pending.records)))
            self._publish(None, final=True)
        self.param.update(
            running=False,
            outcome=outcome,
            error=error,
            step="",
            fraction=1.0 if outcome in ("passed", "failed checks") else self.fraction,
            runs=self.runs + 1,
        )

    # -- progress -----------------------------------------------------------------------------

    def _heard(self, progress: Progress) -> None:
        """The progress callback: on the loop running the scenario, after every request."""
        self._pending = progress
        wait = self._published + self.update_interval_s - time.monotonic()
        if wait <= 0:
            self._publish(progress)
            return
        if self._flush_handle is None:
            # A quiet spell (waiting out Retry-After) still shows the last request seen.
            self._flush_handle = asyncio.get_running_loop().call_later(wait, self._flush)

    def _flush(self) -> None:
        self._flush_handle = None
        if self._pending is not None and self.running:
            self._publish(self._pending)

    def _publish(self, progress: Progress | None, *, final: bool = False) -> None:
        now = time.monotonic()
        self._published = now
        earlier = [r for result in self._finished for r in result.records]
        live: list[RequestRecord] = []
        if progress is not None and not final:
            live = list(progress.records)
        everything = earlier + live
        update: dict[str, Any] = {
            "done": len(everything),
            "status_counts": dict(sorted(Counter(r.status for r in everything).items())),
            "latencies_ms": [r.latency_ms for r in everything if r.status],
        }
        shown = list(self._finished)
        if progress is not None and not final:
            shown.append(ScenarioResult(progress.scenario, live))
            share = progress.fraction
            update.update(
                current=progress.scenario,
                step=progress.message,
                elapsed_s=progress.elapsed_s,
                rate_per_s=progress.rate_per_s,
                fraction=None
                if share is None and self._count == 1
                else (self._index + (share or 0.0)) / self._count,
            )
            if self._count > 1:
                update["position"] = f"{self._index + 1} of {self._count}"
        if final and self._finished:
            last = self._finished[-1].summary
            update.update(rate_per_s=last.rate_per_s, results=list(self._finished))
        update["summary_text"] = summary_text(shown) if shown else ""
        if final or now - self._charted >= self.chart_interval_s:
            self._charted = now
            update["records"] = everything
        self.param.update(**update)


def summary_text(results: Sequence[ScenarioResult]) -> str:
    """What the CLI prints: the table, then one line per failed check or unexpected answer."""
    lines = [table(results), *(f"  ! {line}" for line in failures(results))]
    return "\n".join(lines)

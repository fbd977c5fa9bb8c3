"""What the scenario notebooks call: a stack to talk to, the API called the way a reader wants
to see it, and `record`, which leaves values in the notebook for the tests to read back.

`setup(STACK, ...)` is every notebook's one-line setup cell: charts drawn inline, the stack
connected, and its description recorded.

`connect("auto")` attaches to the stack `make stack` (or `make workbench`) runs, found through
`.local/stack.json` (under `LOCAL_STATE_DIR` when set), or starts an embedded one in this
process: DynamoDB Local in memory, free ports, the news pipeline without schedules (one
ingestion cycle is run at start so there is news), and the demo settings given (short circuit
timeouts, say). `connect("attach")` only attaches, `connect("embedded")` always starts one.
Settings apply only to a stack started here: an attached stack keeps its own. With `api_url`,
`setup` reads a deployed API instead (mode `remote`: no operator token, nothing to stop).
"""

from __future__ import annotations

import atexit
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx

from services.local.paths import LocalPaths, project_root
from services.traffic.scenarios import run_scenario, run_sync
from services.traffic.scenarios.base import Options, ScenarioResult
from services.traffic.stats import Answered
from services.traffic.target import (
    Target,
    TargetError,
    TrafficSettings,
    check_url,
    local_paths,
    local_target,
)

Mode = Literal["auto", "attach", "embedded"]
# The media type of a recorded value in a cell's output (a display_data of its own).
RECORD_MIME = "application/vnd.sentiment-deep-dive.record+json"
HEALTH_TIMEOUT_S = 3.0
# The loggers of the functions the embedded stack runs (Powertools names them by service).
FUNCTION_LOGGERS = ("dashboard", "ingestion", "analysis", "notification", "metrics")
DAY_S = 86_400


@dataclass(frozen=True)
class Reply(Answered):
    """One API call as a notebook shows it."""

    method: str
    path: str
    status: int
    body: Any
    headers: dict[str, str]
    latency_ms: float

    def row(self) -> dict[str, Any]:
        """A table row: the call, its status, cache, latency and error code."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return {
            "call": f"{self.method} {self.path}",
            "status": self.status,
            "x_cache": self.headers.get("x-cache", ""),
            "latency_ms": round(self.latency_ms, 1),
            "error": error.get("code") if isinstance(error, dict) else "",
        }


@dataclass
class NotebookStack:
    """The stack a notebook talks to: its target, and the stack itself when started here."""

    target: Target
    mode: Literal["attached", "embedded", "remote"]
    stack: Any = None  # LocalStack, when started by this process
    state_dir: Path | None = None
    calls: list[Reply] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return self.target.api_url

    @property
    def is_local(self) -> bool:
        """A stack on this machine (attached or started here), whose operator routes answer."""
        return self.mode != "remote"

    def call(
        self,
        method: str,
        path: str,
        *,
        bearer: str | None = None,
        operator: bool = False,
        json_body: Any = None,
        params: dict[str, str] | None = None,
    ) -> Reply:
        """One API call, synchronously (the tour's cells); every call is kept in `calls`."""
        headers = self.target.authorization(bearer, operator=operator)
        started = time.perf_counter()
        response = httpx.request(
            method,
            f"{self.api_url}{path}",
            headers=headers,
            json=json_body,
            params=params,
            timeout=180,
        )
        latency = (time.perf_counter() - started) * 1000
        try:
            body = response.json()
        except ValueError:
            body = response.text
        reply = Reply(method, path, response.status_code, body, dict(response.headers), latency)
        self.calls.append(reply)
        return reply

    def calls_table(self) -> list[dict[str, Any]]:
        return [reply.row() for reply in self.calls]

    def run(self, scenario: str, **options: Any) -> ScenarioResult:
        """One traffic-generator scenario, with `Options` given by keyword."""
        return run_sync(run_scenario(scenario, self.target, Options(**options)))

    def stack_url(self, name: str) -> str | None:
        """A URL of the stack's description (`tiingo_url`, `sendgrid_url`, ...)."""
        if not self.is_local:
            return None
        if self.stack is not None:
            value = self.stack.describe().get(name)
            return value if isinstance(value, str) else None
        paths = local_paths(TrafficSettings())
        try:
            described = json.loads(paths.stack_file.read_text())
        except (OSError, ValueError):
            return None
        value = described.get(name) if isinstance(described, dict) else None
        return value if isinstance(value, str) else None

    def stop(self) -> None:
        """Stop the stack if this process started it (an attached one is left running)."""
        if self.stack is not None:
            self.stack.stop()
            self.stack = None
        if self.state_dir is not None:
            shutil.rmtree(self.state_dir, ignore_errors=True)
            self.state_dir = None

    def describe(self) -> dict[str, Any]:
        return {"mode": self.mode, **self.target.describe()}


def _answers(target: Target) -> bool:
    try:
        return httpx.get(f"{target.api_url}/health", timeout=HEALTH_TIMEOUT_S).status_code in (
            200,
            503,
        )
    except httpx.HTTPError:
        return False


def attach(paths: LocalPaths | None = None) -> NotebookStack:
    """The running stack described by `stack.json`; a `TargetError` when none answers."""
    paths = paths or local_paths(TrafficSettings())
    target = local_target(paths)
    if not _answers(target):
        raise TargetError(
            f"the stack in {paths.stack_file} does not answer at {target.api_url}: "
            "start it with `make stack`"
        )
    return NotebookStack(target, "attached")


def start_embedded(**settings: Any) -> NotebookStack:
    """An embedded stack in this process (stopped by `stop()` or at exit)."""
    from services.local.stack import LocalStack, StackOptions  # the heavy part, only if needed
    from services.settings import Settings

    state_dir = Path(tempfile.mkdtemp(prefix="notebook-stack-"))
    options = StackOptions(
        paths=LocalPaths(root=project_root(), state_dir_override=state_dir),
        settings=Settings(**settings),
        api_port=0,
        dynamodb_port=0,
        in_memory=True,
        pipeline=True,
        schedules=False,
    )
    stack = LocalStack(options).start()
    assert stack.pipeline is not None
    # The functions log every request and cycle at INFO on stdout, which a kernel would put in
    # whichever cell is running: in a notebook only their warnings are worth a line.
    for name in FUNCTION_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    # News to show: what the stack's start-up cycle does when schedules run.
    stack.pipeline.run_ingestion_now()
    running = NotebookStack(local_target(options.paths), "embedded", stack, state_dir)
    atexit.register(running.stop)
    return running


def connect(mode: Mode = "auto", **settings: Any) -> NotebookStack:
    """Attach to the running stack or start one (see the module's docstring)."""
    if mode not in ("auto", "attach", "embedded"):
        raise ValueError(f"mode must be auto, attach or embedded, not {mode!r}")
    if mode != "embedded":
        try:
            return attach()
        except TargetError:
            if mode == "attach":
                raise
    return start_embedded(**settings)


def remote(api_url: str) -> NotebookStack:
    """A deployed API (its Function URL, say): read as any client reads it."""
    return NotebookStack(Target(check_url(api_url), "remote"), "remote")


def setup(
    mode: Mode = "auto",
    open_timeout_s: float | None = None,
    http_timeout_s: float | None = None,
    watchlist: str | Sequence[str] | None = None,
    *,
    api_url: str = "",
    lookback_days: float | None = None,
    **settings: Any,
) -> NotebookStack:
    """A notebook's setup cell in one call: HoloViews draws with Bokeh, its scripts inlined so
    the saved notebook and its HTML report open offline; the stack connected (`connect`; the
    settings given, those left None at their defaults, apply only to a stack started here), or
    the deployed API at `api_url` when one is given; its description recorded as `stack`.
    """
    import holoviews as hv  # only a kernel that draws charts pays for the import

    hv.extension("bokeh", inline=True)
    if api_url:
        stack = remote(api_url)
    else:
        chosen = _stack_settings(open_timeout_s, http_timeout_s, watchlist, lookback_days)
        stack = connect(mode, **chosen, **settings)
    record("stack", stack.describe())
    return stack


def _stack_settings(
    open_timeout_s: float | None,
    http_timeout_s: float | None,
    watchlist: str | Sequence[str] | None,
    lookback_days: float | None,
) -> dict[str, Any]:
    """`Settings` fields from a notebook's parameters; one left None keeps its default."""
    if watchlist is not None and not isinstance(watchlist, str):
        watchlist = ",".join(watchlist)
    named = {
        "circuit_open_timeout_s": open_timeout_s,
        "http_timeout_s": http_timeout_s,
        "default_watchlist": watchlist,
        "ingestion_lookback_s": None if lookback_days is None else round(lookback_days * DAY_S),
    }
    return {name: value for name, value in named.items() if value is not None}


def record(name: str, value: Any) -> Any:
    """Leave `value` (JSON) in the cell's output under `name`, for the tests to read back
    (`read_records`); shown to a reader as one line. Returns `value`."""
    from IPython.display import display

    encoded = json.loads(json.dumps(value, default=str))
    display(  # type: ignore[no-untyped-call]
        {RECORD_MIME: {name: encoded}, "text/plain": f"recorded {name} = {encoded!r}"},
        raw=True,
    )
    return value


def read_records(notebook: Path | str) -> dict[str, Any]:
    """Every value `record` left in an executed notebook, by name (the last one wins)."""
    document = json.loads(Path(notebook).read_text())
    found: dict[str, Any] = {}
    for cell in document.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RECORD_MIME in data:
                found.update(data[RECORD_MIME])
    return found

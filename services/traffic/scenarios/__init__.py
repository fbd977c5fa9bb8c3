"""The scenarios, one module each, and the runner every caller uses (CLI, workbench,
notebooks): `run_scenario` for one, `run_scenarios` for several (`all` expands to every one),
`run_sync` from code without an event loop of its own (or inside a notebook's)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from types import ModuleType
from typing import Any, TypeVar

from services.traffic.client import ProgressCallback, Recorder, TrafficClient
from services.traffic.scenarios import (
    basic,
    cache,
    chaos,
    circuit_breaker,
    load,
    price_sentiment,
    rate_limit,
)
from services.traffic.scenarios.base import Options, ScenarioResult
from services.traffic.target import Target

MODULES: dict[str, ModuleType] = {
    m.NAME: m for m in (basic, price_sentiment, cache, load, rate_limit, circuit_breaker, chaos)
}
SCENARIO_NAMES: tuple[str, ...] = tuple(MODULES)
# Scenarios that send heavy or harmful traffic: loopback targets only, unless preprod or
# prod was chosen by name.
GUARDED = frozenset({"load", "rate-limit", "circuit-breaker", "chaos"})

ScenarioRun = Callable[[TrafficClient, Options, ScenarioResult], Awaitable[None]]
T = TypeVar("T")


class TargetRefusedError(Exception):
    """A guarded scenario aimed at a non-loopback address without preprod/prod chosen."""


def expand(names: Iterable[str]) -> list[str]:
    """Scenario names in order, `all` expanded; an unknown name is a `ValueError`."""
    chosen: list[str] = []
    for name in names:
        if name == "all":
            chosen.extend(n for n in SCENARIO_NAMES if n not in chosen)
        elif name in MODULES:
            if name not in chosen:
                chosen.append(name)
        else:
            raise ValueError(
                f"unknown scenario {name!r}: choose from {', '.join(SCENARIO_NAMES)} or all"
            )
    return chosen


def check_target(names: Sequence[str], target: Target) -> None:
    guarded = [n for n in names if n in GUARDED]
    if guarded and not target.loopback and not target.remote_chosen:
        raise TargetRefusedError(
            f"{', '.join(guarded)} only runs against a loopback address (127.0.0.1, ::1, "
            f"localhost); {target.api_url} is not one. To test a deployed API choose it by "
            "name: --env preprod or --env prod"
        )


async def run_scenario(
    name: str,
    target: Target,
    options: Options | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> ScenarioResult:
    """Run one scenario against `target`; `on_progress` hears about every request."""
    options = (options or Options()).validate()
    [name] = expand([name])
    check_target([name], target)
    recorder = Recorder(name, on_progress)
    result = ScenarioResult(name, recorder.records)
    module = MODULES[name]
    scenario: ScenarioRun = module.run
    started = time.perf_counter()
    recorder.step(f"{name}: {module.DESCRIPTION}")
    connections = max(options.burst, options.users * 2, 10) + 10
    async with TrafficClient(target, recorder, max_connections=connections) as client:
        await scenario(client, options, result)
    result.duration_s = time.perf_counter() - started
    recorder.step(f"{name}: done ({'ok' if result.ok else 'with failed checks'})")
    return result


async def run_scenarios(
    names: Iterable[str],
    target: Target,
    options: Options | None = None,
    *,
    on_progress: ProgressCallback | None = None,
) -> list[ScenarioResult]:
    """Several scenarios one after another (`all` expands); targets are checked first."""
    chosen = expand(names)
    check_target(chosen, target)
    options = (options or Options()).validate()
    return [await run_scenario(n, target, options, on_progress=on_progress) for n in chosen]


def run_sync(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code; inside a running event loop (a
    notebook's, Panel's), on a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(work)
        except BaseException as error:  # handed back to the caller's thread
            outcome["error"] = error

    thread = threading.Thread(target=target, name="traffic", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    value: T = outcome["value"]
    return value

"""The traffic generator: scenarios that drive the API as users and an operator would, and
summarise what came back. One library for the CLI (`sentiment-traffic`), the workbench and
the notebooks.

    target = resolve_target("local")                       # or Target(api_url, "local", token)
    result = await run_scenario("load", target, Options(users=5, requests=10),
                                on_progress=callback)      # callback(Progress) per request
    print(table([result]))
"""

from __future__ import annotations

from services.traffic.client import Progress, ProgressCallback
from services.traffic.report import report, table
from services.traffic.scenarios import (
    GUARDED,
    SCENARIO_NAMES,
    TargetRefusedError,
    run_scenario,
    run_scenarios,
    run_sync,
)
from services.traffic.scenarios.base import (
    CHAOS_SCENARIOS,
    Check,
    Options,
    OptionsError,
    ScenarioResult,
)
from services.traffic.stats import RequestRecord, Summary, percentile, summarize
from services.traffic.target import Target, TargetError, resolve_target

__all__ = [
    "CHAOS_SCENARIOS",
    "GUARDED",
    "SCENARIO_NAMES",
    "Check",
    "Options",
    "OptionsError",
    "Progress",
    "ProgressCallback",
    "RequestRecord",
    "ScenarioResult",
    "Summary",
    "Target",
    "TargetError",
    "TargetRefusedError",
    "percentile",
    "report",
    "resolve_target",
    "run_scenario",
    "run_scenarios",
    "run_sync",
    "summarize",
    "table",
]

"""`sentiment-traffic` / `python -m services.traffic`: the traffic generator's command line.

Exit status: 0 when every scenario's checks passed with no unexpected answer, 1 otherwise,
2 for a usage or target error (said in one line, never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from services.traffic.client import Progress
from services.traffic.report import failures, report, table
from services.traffic.scenarios import (
    MODULES,
    SCENARIO_NAMES,
    TargetRefusedError,
    run_scenarios,
    run_sync,
)
from services.traffic.scenarios.base import (
    CHAOS_SCENARIOS,
    MAX_BURST,
    MAX_REQUESTS,
    MAX_USERS,
    Options,
    OptionsError,
)
from services.traffic.target import TargetError, resolve_target

USAGE_ERROR = 2


def _bounded(name: str, low: int, high: int) -> type[int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} must be between {low} and {high}")
        return value

    parse.__name__ = name
    return parse  # type: ignore[return-value]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 1 <= value <= 600:
        raise argparse.ArgumentTypeError("seconds must be between 1 and 600")
    return value


def parser() -> argparse.ArgumentParser:
    scenarios = "\n".join(f"  {name:16} {m.DESCRIPTION}" for name, m in MODULES.items())
    p = argparse.ArgumentParser(
        prog="sentiment-traffic",
        description="Generate traffic against the Sentiment Deep Dive API and summarise it.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"scenarios:\n{scenarios}\n  all              every scenario, in this order\n\n"
        "--env local reads .local/stack.json and .local/operator-token (start the stack with "
        "`make stack`);\n--env preprod|prod read PREPROD_API_URL / PROD_API_URL and "
        "PREPROD_OPERATOR_TOKEN / PROD_OPERATOR_TOKEN.",
    )
    p.add_argument("--env", choices=("local", "preprod", "prod"), default="local")
    p.add_argument("--url", help="the API's base URL (overrides the environment's)")
    p.add_argument(
        "--scenario", choices=(*SCENARIO_NAMES, "all"), default="basic", help="what to run"
    )
    p.add_argument(
        "--users", type=_bounded("users", 1, MAX_USERS), default=5, help="load: concurrent users"
    )
    p.add_argument(
        "--requests",
        type=_bounded("requests", 1, MAX_REQUESTS),
        default=10,
        help="load: requests per user",
    )
    p.add_argument(
        "--burst",
        type=_bounded("burst", 1, MAX_BURST),
        default=50,
        help="rate-limit: requests in the burst",
    )
    p.add_argument(
        "--chaos",
        choices=CHAOS_SCENARIOS,
        default=Options.chaos,
        help="chaos: the fault to inject (default %(default)s)",
    )
    p.add_argument(
        "--max-wait",
        type=_seconds,
        default=Options.max_wait_s,
        help="circuit-breaker/chaos: longest wait for a circuit to change (s)",
    )
    p.add_argument("--quiet", action="store_true", help="print only the summary table")
    p.add_argument("--json", metavar="PATH", type=Path, help="also write the results as JSON")
    return p


class ProgressPrinter:
    """Steps as they happen, one line each, on stderr."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, progress: Progress) -> None:
        if progress.record is None:
            self.stream.write(f"[{progress.scenario}] {progress.message}\n")
            self.stream.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    options = Options(
        users=args.users,
        requests=args.requests,
        burst=args.burst,
        chaos=args.chaos,
        max_wait_s=args.max_wait,
    )
    on_progress = None if args.quiet else ProgressPrinter(sys.stderr)
    try:
        target = resolve_target(args.env, args.url)
        # run_sync: also when called from code that has an event loop running (a notebook).
        results = run_sync(run_scenarios([args.scenario], target, options, on_progress=on_progress))
    except (TargetError, TargetRefusedError, OptionsError) as error:
        print(f"sentiment-traffic: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("sentiment-traffic: interrupted", file=sys.stderr)
        return 130
    print(table(results))
    problems = failures(results)
    for line in problems:
        print(f"  ! {line}")
    if args.json is not None:
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(report(target, results), indent=2) + "\n")
        except OSError as error:
            print(f"sentiment-traffic: cannot write {args.json}: {error}", file=sys.stderr)
            return USAGE_ERROR
    if not results or not any(r.records for r in results):
        print(f"sentiment-traffic: nothing answered at {target.api_url}", file=sys.stderr)
        return 1
    unreachable = all(rec.status == 0 for r in results for rec in r.records)
    if unreachable:
        hint = (
            "the stack file may be left from a stack that stopped: start it with `make stack`"
            if target.env == "local" and args.url is None
            else "is the API running there?"
        )
        print(f"sentiment-traffic: no answer from {target.api_url}: {hint}", file=sys.stderr)
    return 0 if not problems else 1

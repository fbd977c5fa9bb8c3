"""`python -m tests.benchmarks [--quick] [--only NAME ...]` (what `make bench` runs)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from services.local.paths import project_root
from tests.benchmarks import (  # noqa: F401 - registers the benchmarks
    bench_api,
    bench_caches,
    bench_lambda,
    bench_pipeline,
    bench_rate_limit,
    bench_scale_out,
    bench_store,
    bench_workbench,
)
from tests.benchmarks.harness import REGISTRY, Context, render_table, write_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sample sizes (smoke run; budgets reported, not enforced)",
    )
    parser.add_argument("--only", nargs="*", choices=sorted(REGISTRY), help="run only these")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="report directory")
    args = parser.parse_args(argv)
    ctx = Context(root=project_root(), quick=args.quick)
    results = []
    names = args.only or list(REGISTRY)
    for index, name in enumerate(names, 1):
        print(f"[{index}/{len(names)}] {name} ...", end=" ", flush=True)
        started = time.perf_counter()
        results.append(REGISTRY[name](ctx))
        print(f"{time.perf_counter() - started:.1f} s", flush=True)
    path = write_report(results, args.out, args.quick)
    print(render_table(results))
    print(f"report: {path}")
    missed = [
        f"{r.benchmark}.{m.name}"
        for r in results
        for m in r.measurements
        if m.within_budget is False
    ]
    if not missed:
        return 0
    print(f"outside budget: {', '.join(missed)}")
    # A quick run's samples are too small to judge a budget by; only full runs fail on one.
    return 0 if args.quick else 1


if __name__ == "__main__":
    sys.exit(main())

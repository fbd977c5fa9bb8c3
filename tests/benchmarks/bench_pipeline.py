"""The text model (accuracy, macro-F1, confusion, throughput) and the news pipeline's
throughput from fetch to analyzed, on DynamoDB Local with the emulators over HTTP."""

from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

from services.local.dynamodb_local import DynamoDBLocal
from services.local.pipeline import LocalPipeline
from services.scoring import scorer_for
from services.scoring.evaluation import evaluate, load_labelled, measure_speed
from services.settings import Settings
from services.store.articles import DynamoArticleRepository
from services.store.table import dynamodb_client, dynamodb_table, ensure_table
from tests.benchmarks.harness import BenchmarkResult, Context, benchmark

DATA = Path("services/scoring/training/data")
# Budgets of the default scorer (accuracy, macro-F1) per held-out set.
DATASETS = {"sent_valid.csv": (0.87, 0.82), "news_prose_test.csv": (0.82, 0.75)}
PIPELINE_TICKERS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "JPM", "XOM", "UNH")


@benchmark("text_model")
def text_model(ctx: Context) -> BenchmarkResult:
    """The default scorer against the linear model, on the same run: both held-out sets,
    then throughput on one core and on all cores (a process per core)."""
    settings = Settings()
    default = settings.scorer_tier
    result = BenchmarkResult(
        "text_model",
        f"the default scorer ({default}) and the linear model on sent_valid.csv (headlines) "
        "and news_prose_test.csv (news prose); texts/s with one thread per process",
    )
    for dataset, budgets in DATASETS.items():
        texts, labels = load_labelled(ctx.root / DATA / dataset)
        name = dataset.removesuffix(".csv")
        for tier in dict.fromkeys((default, "linear")):
            report = evaluate(scorer_for(tier, 1, settings.cascade_threshold), texts, labels)
            prefix = "default" if tier == default else tier
            accuracy_budget, f1_budget = budgets if tier == default else (None, None)
            result.add(
                f"{prefix}_{name}_accuracy",
                report.accuracy,
                "ratio",
                budget=accuracy_budget,
                higher_is_better=True,
            )
            result.add(
                f"{prefix}_{name}_macro_f1",
                report.macro_f1,
                "ratio",
                budget=f1_budget,
                higher_is_better=True,
            )
            result.details[f"{prefix}_{name}"] = {
                "confusion": report.confusion,
                "per_class": report.per_class,
                "ece": report.ece,
                "n": report.n,
            }
    speed_texts, _ = load_labelled(ctx.root / DATA / "sent_valid.csv")
    speed_texts = speed_texts[: ctx.n(2000, 300)]
    for tier in dict.fromkeys((default, "linear")):
        prefix = "default" if tier == default else tier
        speed = measure_speed(tier, speed_texts, settings.cascade_threshold)
        result.add(f"{prefix}_per_core", speed["texts_per_s_one_core"], "texts/s")
        result.add(f"{prefix}_all_cores", speed["texts_per_s_all_cores"], "texts/s")
    result.details.update(default_tier=default, cores=os.cpu_count())
    return result


@benchmark("pipeline_throughput")
def pipeline_throughput(ctx: Context) -> BenchmarkResult:
    """The same burst three times on one DynamoDB Local: the linear model, the default scorer,
    the linear model again. DynamoDB Local's JVM gets faster as it warms, so the default's rate
    is compared with the mean of the two linear runs around it: the ratio is what the default
    scorer costs, not what the order of the runs did."""
    total = ctx.n(10_000, 1_000)
    default = Settings().scorer_tier
    result = BenchmarkResult(
        "pipeline_throughput",
        f"{total} new articles from the emulators through ingestion, the topic and analysis "
        "(DynamoDB Local, in memory); rate = articles / time from cycle start to all "
        f"analyzed; the linear model, the default scorer ({default}), the linear model again",
    )
    logging.disable(logging.INFO)  # per-batch log lines would measure the terminal
    dynamo = DynamoDBLocal(root=ctx.root, port=0, db_path=None).start()
    try:
        rates: dict[str, list[float]] = {"linear": [], "default": []}
        for tier in ("linear", default, "linear"):
            run = _burst(ctx, dynamo, total, tier)
            prefix = "default" if tier == default else tier
            rates[prefix].append(run.pop("articles_per_s"))
            run["fetch_to_all_analyzed_s"] = round(run.pop("elapsed"), 2)
            result.details.setdefault(prefix, []).append(run)
        for prefix, measured in rates.items():
            result.add(
                f"{prefix}_articles_per_s",
                sum(measured) / len(measured),
                "articles/s",
                budget=500,
                higher_is_better=True,
            )
        linear = sum(rates["linear"]) / len(rates["linear"])
        result.add(
            "default_vs_linear",
            rates["default"][0] / linear,
            "ratio",
            budget=0.8,
            higher_is_better=True,
        )
        result.details["linear_rates"] = [round(r, 1) for r in rates["linear"]]
    finally:
        logging.disable(logging.NOTSET)
        dynamo.stop()
    return result


def _burst(ctx: Context, dynamo: DynamoDBLocal, total: int, tier: str) -> dict[str, Any]:
    """One measured cycle of `total` injected articles, scored by `tier`, on a new table."""
    assert dynamo.endpoint is not None
    settings = Settings(
        dynamodb_endpoint=dynamo.endpoint,
        table_name=f"bench-{uuid.uuid4().hex[:6]}",
        default_watchlist=",".join(PIPELINE_TICKERS),
        log_level="WARNING",
        scorer_tier=tier,
    )
    ensure_table(dynamodb_client(settings), settings.table_name)
    table = dynamodb_table(settings)
    pipeline = LocalPipeline(settings, table, schedules_enabled=False)
    try:
        pipeline.start()
        assert pipeline.world is not None and pipeline.topic is not None
        # Warm up: the day's regular news, so the measured cycle holds only the burst.
        pipeline.run_ingestion_now()
        pipeline.topic.drain(timeout_s=120)
        articles = DynamoArticleRepository(table)
        analyzed_before = articles.count_by_status("analyzed")
        for index, ticker in enumerate(PIPELINE_TICKERS):
            share = total // len(PIPELINE_TICKERS) + (index < total % len(PIPELINE_TICKERS))
            pipeline.world.inject(ticker, share)
        cpu_before = _cpu_seconds(dynamo.pid)
        started = time.perf_counter()
        summary = pipeline.run_ingestion_now()
        ingested = time.perf_counter() - started
        drained = pipeline.topic.drain(timeout_s=600)
        elapsed = time.perf_counter() - started
        cpu_after = _cpu_seconds(dynamo.pid)
        analyzed = articles.count_by_status("analyzed") - analyzed_before
        return {
            "articles_per_s": analyzed / elapsed,
            "elapsed": elapsed,
            "ingestion_phase_s": round(ingested, 2),
            "injected": total,
            "new": summary["new"],
            "analyzed": analyzed,
            "pending_left": articles.count_by_status("pending"),
            "drained": drained,
            "fetched": summary["fetched"],
            "errors": summary["errors"],
            "topic": pipeline.stats(),
            "cpu_s": _cpu_spent(cpu_before, cpu_after, elapsed),
        }
    finally:
        pipeline.stop()
        # The next run starts on an empty DynamoDB Local, not behind this run's items.
        dynamodb_client(settings).delete_table(TableName=settings.table_name)


def _cpu_seconds(dynamodb_pid: int | None) -> dict[str, float] | None:
    """CPU seconds so far of DynamoDB Local, of this process and of the whole machine.

    The machine is shared: a run whose cores were partly taken by other processes is slower
    for reasons of its own, and these figures say how much (Linux only; None elsewhere).
    """
    try:
        tick = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
        busy = (sum(fields) - fields[3] - fields[4]) / tick  # all but idle and iowait

        def process(pid: int) -> float:
            with open(f"/proc/{pid}/stat") as f:
                after_name = f.read().rsplit(")", 1)[1].split()
            return (int(after_name[11]) + int(after_name[12])) / tick  # utime + stime

        java = process(dynamodb_pid) if dynamodb_pid else 0.0
        return {"machine": busy, "dynamodb_local": java, "pipeline_process": process(os.getpid())}
    except (OSError, ValueError, IndexError):
        return None


def _cpu_spent(
    before: dict[str, float] | None, after: dict[str, float] | None, elapsed: float
) -> dict[str, float] | None:
    if before is None or after is None:
        return None
    spent = {name: round(after[name] - before[name], 2) for name in before}
    return {
        "dynamodb_local": spent["dynamodb_local"],
        "pipeline_process": spent["pipeline_process"],
        "other_processes": round(
            max(0.0, spent["machine"] - spent["dynamodb_local"] - spent["pipeline_process"]), 2
        ),
        "available": round(elapsed * (os.cpu_count() or 1), 2),
    }

"""The text model (accuracy, macro-F1, confusion, throughput) and the news pipeline's
throughput from fetch to analyzed, on DynamoDB Local with the emulators over HTTP."""

from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path

from services.local.dynamodb_local import DynamoDBLocal
from services.local.pipeline import LocalPipeline
from services.scoring.evaluation import evaluate, load_labelled
from services.scoring.text_model import TextSentimentModel
from services.settings import Settings
from services.store.articles import DynamoArticleRepository
from services.store.table import dynamodb_client, dynamodb_table, ensure_table
from tests.benchmarks.harness import BenchmarkResult, Context, benchmark

VALID = Path("services/scoring/training/data/sent_valid.csv")
PIPELINE_TICKERS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "JPM", "XOM", "UNH")


@benchmark("text_model")
def text_model(ctx: Context) -> BenchmarkResult:
    result = BenchmarkResult(
        "text_model", "our model on sent_valid.csv; throughput on one core, batches of 1000"
    )
    model = TextSentimentModel.load()
    texts, labels = load_labelled(ctx.root / VALID)
    report = evaluate(model, texts, labels)
    result.add("accuracy", report.accuracy, "ratio", budget=0.85, higher_is_better=True)
    result.add("macro_f1", report.macro_f1, "ratio", budget=0.80, higher_is_better=True)
    # Throughput over at least 10,000 headlines (the file repeated), after one warm-up batch.
    model.score_batch(texts[:1000])
    repeated = texts * ctx.n(5, 1)
    started = time.perf_counter()
    for start in range(0, len(repeated), 1000):
        model.score_batch(repeated[start : start + 1000])
    rate = len(repeated) / (time.perf_counter() - started)
    result.add("throughput", rate, "headlines/s", budget=10_000, higher_is_better=True)
    result.details.update(
        model_version=model.version,
        labels=list(report.labels),
        confusion=report.confusion,
        per_class=report.per_class,
        n=report.n,
    )
    return result


@benchmark("pipeline_throughput")
def pipeline_throughput(ctx: Context) -> BenchmarkResult:
    total = ctx.n(10_000, 1_000)
    result = BenchmarkResult(
        "pipeline_throughput",
        f"{total} new articles from the emulators through ingestion, the topic and analysis "
        "(DynamoDB Local, in memory); rate = articles / time from cycle start to all analyzed",
    )
    logging.disable(logging.INFO)  # per-batch log lines would measure the terminal
    dynamo = DynamoDBLocal(root=ctx.root, port=0, db_path=None).start()
    pipeline = None
    try:
        settings = Settings(
            dynamodb_endpoint=dynamo.endpoint,
            table_name=f"bench-{uuid.uuid4().hex[:6]}",
            default_watchlist=",".join(PIPELINE_TICKERS),
            log_level="WARNING",
        )
        ensure_table(dynamodb_client(settings), settings.table_name)
        table = dynamodb_table(settings)
        pipeline = LocalPipeline(settings, table, schedules_enabled=False)
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
        result.add("articles_per_s", analyzed / elapsed, "articles/s", budget=500,
                   higher_is_better=True)  # fmt: skip
        result.add("ingestion_phase", ingested, "s")
        result.add("fetch_to_all_analyzed", elapsed, "s")
        result.details.update(
            injected=total,
            new=summary["new"],
            analyzed=analyzed,
            pending_left=articles.count_by_status("pending"),
            drained=drained,
            fetched=summary["fetched"],
            errors=summary["errors"],
            topic=pipeline.stats(),
            cpu_s=_cpu_spent(cpu_before, cpu_after, elapsed),
        )
    finally:
        logging.disable(logging.NOTSET)
        if pipeline is not None:
            pipeline.stop()
        dynamo.stop()
    return result


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

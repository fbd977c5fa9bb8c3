"""Lambda budget: for each of the five functions, the cold import time of its handler module and
the peak memory of one invocation, each in a fresh Python process.

How it is measured. The parent starts what the functions talk to, each outside the measured
process as AWS is outside a Lambda environment: DynamoDB Local (the table), moto's server (the
SNS topic, with an SQS queue subscribed so ingestion's real messages become analysis's event),
and the Tiingo, Finnhub and SendGrid emulators over HTTP. Then, per function, a new
interpreter imports `services.functions.<name>` (timed: the cold import), invokes `handler`
once with the event its trigger sends (EventBridge's scheduled event, the SNS envelope of a
message ingestion published, a Function URL request for GET /health, the digest's
`{"action": "digest"}`), and reports its peak resident set (VmHWM of /proc/self/status,
the figure Lambda's "Max Memory Used" corresponds to). The first invocation includes building the
function's collaborators, as a Lambda cold start does. Ingestion runs first, so analysis
has its articles and the metrics and notification functions have data to read.

Analysis scores with the transformer tier: its first invocation loads the int8 ONNX model
(onnxruntime, tokenizers) before scoring the batch, so its cold import, its first invocation
(model load included) and its peak RSS are reported as three figures. Its peak RSS also
covers what a warm instance meets: after the first invocation, two of the largest batches
ingestion publishes (`publish_batch_size` stories, each past the encoder's 64 tokens) go
through the function's scorer; the peak after the first invocation alone is in the details.

Budgets: the memory Terraform gives each function (`function_memory_mb` in
infrastructure/terraform/envs/dev/main.tf, which every environment shares, under any
`memory_mb` of an environment's terraform.tfvars; the lambda module's 128 MB otherwise) and a
cold import under 1 s. The bare interpreter's RSS is reported alongside, for reference.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3

from services.local.dynamodb_local import DynamoDBLocal
from services.local.emulators.finnhub import FinnhubEmulator
from services.local.emulators.sendgrid import SendGridEmulator
from services.local.emulators.tiingo import TiingoEmulator
from services.local.emulators.world import NewsWorld
from services.local.function_url import build_event
from services.settings import Settings
from services.store.table import dynamodb_client, ensure_table
from tests.benchmarks.harness import BenchmarkResult, Context, benchmark
from tests.infrastructure.hcl import ENVS, TERRAFORM, load, locals_of, tfvars

FUNCTIONS = ("ingestion", "analysis", "dashboard", "notification", "metrics")
# The lambda module's memory where none is given: lookup(var.memory_mb, each.key, 128).
DEFAULT_MEMORY_MB = 128.0
IMPORT_BUDGET_S = 1.0
REGION = "us-east-1"

PROBE = r"""
import importlib, json, resource, sys, time
name, memory_mb, event = sys.argv[1], int(sys.argv[2]), json.loads(sys.stdin.read())

class Context:
    function_name = "bench-" + name
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-" + name
    memory_limit_in_mb = memory_mb
    aws_request_id = "bench"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"
    def get_remaining_time_in_millis(self):
        return 30000

def peak_mb():
    # VmHWM: this process image's peak RSS. Not ru_maxrss, which survives exec and so
    # starts at the RSS of the (large) parent that forked this process.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

started_rss = peak_mb()
started = time.perf_counter()
module = importlib.import_module("services.functions." + name)
import_s = time.perf_counter() - started
after_import = peak_mb()
started = time.perf_counter()
answer = module.handler(event, Context())
invoke_s = time.perf_counter() - started
extra = {}
if name == "analysis":
    # The first batch ingestion published may be small. A warm instance also meets the
    # largest one (publish_batch_size stories), every text past the encoder's token limit:
    # two of them through the function's own scorer, as the second settles onnxruntime's arena.
    from services.scoring import default_scorer
    from services.settings import get_settings
    extra["peak_after_first_invocation_mb"] = peak_mb()
    size = get_settings().publish_batch_size
    texts = [("Shares fell %d%% after the company cut its outlook, citing weaker demand. " % i) * 5
             for i in range(size)]
    started = time.perf_counter()
    for _ in range(2):
        default_scorer().score_batch(texts)
    extra.update(full_batch=size, full_batches_s=time.perf_counter() - started)
print(json.dumps({
    "interpreter_mb": started_rss, "import_s": import_s, "after_import_mb": after_import,
    "invoke_s": invoke_s, "peak_mb": peak_mb(), "extra": extra,
    "answer": str(answer)[:300],
}))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def terraform_memory_mb(root: Path) -> dict[str, float]:
    """The memory Terraform gives each function: the smallest over the environments of
    `merge(local.function_memory_mb, var.memory_mb)`, 128 MB where neither names it."""
    shared = locals_of(load(root / TERRAFORM / "envs" / "dev" / "main.tf"))
    per_env = [
        {**shared.get("function_memory_mb", {}), **tfvars(root, env).get("memory_mb", {})}
        for env in ENVS
    ]
    return {
        name: min(float(memory.get(name, DEFAULT_MEMORY_MB)) for memory in per_env)
        for name in FUNCTIONS
    }


def _probe(
    root: Path, name: str, memory_mb: float, event: dict[str, Any], env: dict[str, str]
) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, name, str(int(memory_mb))],
        input=json.dumps(event),
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        timeout=300,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{name}: {completed.stderr[-3000:]}")
    last = completed.stdout.strip().splitlines()[-1]
    report: dict[str, Any] = json.loads(last)
    return report


def _scheduled_event(rule: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-24T12:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:123456789012:rule/{rule}"],
        "detail": {},
    }


def _sns_event(topic_arn: str, queue_url: str, sqs: Any) -> dict[str, Any]:
    """The SNS-to-Lambda envelope of the first message ingestion published."""
    received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=1, WaitTimeSeconds=2)
    messages = received.get("Messages", [])
    if not messages:
        raise RuntimeError("ingestion published no message for analysis")
    envelope = json.loads(messages[0]["Body"])
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:bench",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": envelope["MessageId"],
                    "TopicArn": topic_arn,
                    "Message": envelope["Message"],
                    "Timestamp": envelope.get("Timestamp", "2026-11-24T12:00:00.000Z"),
                },
            }
        ]
    }


@benchmark("lambda_budget")
def lambda_budget(ctx: Context) -> BenchmarkResult:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request

    result = BenchmarkResult(
        "lambda_budget",
        "per function, in a fresh process: cold import of the handler module, and peak RSS of "
        "one invocation (DynamoDB Local, moto SNS and the provider emulators outside it); "
        "memory budgets from the Terraform",
    )
    memory_mb = terraform_memory_mb(ctx.root)
    dynamo = DynamoDBLocal(root=ctx.root, port=0).start()
    moto_port = _free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    world = NewsWorld(seed=7)
    tiingo = TiingoEmulator(world, "bench-tiingo").start()
    finnhub = FinnhubEmulator(world, "bench-finnhub").start()
    sendgrid = SendGridEmulator("bench-sendgrid").start()
    try:
        table_name = f"bench-lambda-{uuid.uuid4().hex[:6]}"
        settings = Settings(dynamodb_endpoint=dynamo.endpoint, table_name=table_name)
        ensure_table(dynamodb_client(settings), table_name)
        moto_url = f"http://127.0.0.1:{moto_port}"
        credentials = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
        sns = boto3.client("sns", region_name=REGION, endpoint_url=moto_url, **credentials)
        sqs = boto3.client("sqs", region_name=REGION, endpoint_url=moto_url, **credentials)
        topic_arn = sns.create_topic(Name="bench-analysis")["TopicArn"]
        queue_url = sqs.create_queue(QueueName="bench-analysis-tap")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"]
        )
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AWS_", "TIINGO_", "FINNHUB_", "SENDGRID_"))
        }
        env.update(
            {
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_REGION": REGION,
                "AWS_ENDPOINT_URL_DYNAMODB": dynamo.endpoint,
                "AWS_ENDPOINT_URL_SNS": moto_url,
                "TABLE_NAME": table_name,
                "SERVICE_ENVIRONMENT": "dev",
                "ANALYSIS_TOPIC_ARN": topic_arn,
                "DEFAULT_WATCHLIST": "AAPL,MSFT,NVDA",
                "TIINGO_BASE_URL": tiingo.url,
                "TIINGO_API_KEY": "bench-tiingo",
                "FINNHUB_BASE_URL": finnhub.url,
                "FINNHUB_API_KEY": "bench-finnhub",
                "SENDGRID_BASE_URL": sendgrid.url,
                "SENDGRID_API_KEY": "bench-sendgrid",
                "POWERTOOLS_TRACE_DISABLED": "1",
                "LOG_LEVEL": "WARNING",
            }
        )
        interpreter = _probe_interpreter(ctx.root, env)
        result.add("python_interpreter_rss", interpreter, "MB")
        health = build_event(
            method="GET", raw_path="/health", headers={}, body=b"",
            source_ip="127.0.0.1", domain="bench.lambda-url.us-east-1.on.aws",
        )  # fmt: skip
        events: dict[str, Any] = {
            "ingestion": lambda: _scheduled_event("ingestion"),
            "analysis": lambda: _sns_event(topic_arn, queue_url, sqs),
            "dashboard": lambda: health,
            "notification": lambda: {"action": "digest"},
            "metrics": lambda: _scheduled_event("metrics"),
        }
        for name in FUNCTIONS:
            report = _probe(ctx.root, name, memory_mb[name], events[name](), env)
            _record(result, name, report, memory_mb[name])
    finally:
        for emulator in (tiingo, finnhub, sendgrid):
            emulator.stop()
        moto.stop()
        dynamo.stop()
    return result


def _record(result: BenchmarkResult, name: str, report: dict[str, Any], memory_mb: float) -> None:
    result.add(f"{name}_cold_import", report["import_s"], "s", budget=IMPORT_BUDGET_S)
    if name == "analysis":
        # Includes loading the transformer model: what a cold start's first batch pays.
        result.add("analysis_first_invocation", report["invoke_s"], "s")
    result.add(f"{name}_peak_rss", report["peak_mb"], "MB", budget=memory_mb)
    result.details[name] = {
        "memory_mb": memory_mb,
        "rss_after_import_mb": round(report["after_import_mb"], 1),
        "first_invocation_s": round(report["invoke_s"], 3),
        **{key: round(value, 3) for key, value in report["extra"].items()},
        "answer": report["answer"],
    }


def _probe_interpreter(root: Path, env: dict[str, str]) -> float:
    code = (
        "print([int(l.split()[1]) / 1024 for l in open('/proc/self/status')"
        " if l.startswith('VmHWM:')][0])"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, env=env, check=True
    )
    return float(completed.stdout.strip())

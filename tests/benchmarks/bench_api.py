"""GET /health latency through the local Function URL server (handler + real DynamoDB check)."""

from __future__ import annotations

import time
import uuid

import httpx

from services.api.app import build_app
from services.api.dependencies import ApiDependencies
from services.functions import dashboard
from services.local.dynamodb_local import DynamoDBLocal
from services.local.function_url import FunctionUrlServer
from services.observability import get_logger
from services.settings import Settings
from services.store.table import dynamodb_client, ensure_table
from tests.benchmarks.harness import BenchmarkResult, Context, benchmark, latency_summary


@benchmark("health_endpoint")
def health_endpoint(ctx: Context) -> BenchmarkResult:
    result = BenchmarkResult("health_endpoint", "GET /health over HTTP, one keep-alive client")
    dynamo = DynamoDBLocal(root=ctx.root, port=0).start()
    server = None
    try:
        settings = Settings(
            dynamodb_endpoint=dynamo.endpoint, table_name=f"bench-{uuid.uuid4().hex[:6]}"
        )
        ensure_table(dynamodb_client(settings), settings.table_name)
        app = build_app(ApiDependencies(settings=settings), get_logger("bench", "WARNING"))
        server = FunctionUrlServer(lambda e, c: dashboard.handler(e, c, app=app)).start()
        with httpx.Client(base_url=server.url) as client:
            for _ in range(20):
                client.get("/health")
            samples = []
            for _ in range(ctx.n(1000, 100)):
                started = time.perf_counter()
                response = client.get("/health")
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200
        latency_summary(result, "health", samples)
    finally:
        if server is not None:
            server.stop()
        dynamo.stop()
    return result

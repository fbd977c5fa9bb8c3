"""GET /health through the local Function URL server and the real dashboard handler."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from services.composition.api import table_api_dependencies
from services.functions import dashboard
from services.local.function_url import FunctionUrlServer
from services.local.processes import free_port
from services.settings import Settings

pytestmark = pytest.mark.integration


def serve(settings: Settings) -> FunctionUrlServer:
    return FunctionUrlServer(dashboard.build_dashboard(table_api_dependencies(settings))).start()


@pytest.fixture
def api(dynamodb_local, fresh_table) -> Iterator[str]:
    settings = Settings(dynamodb_endpoint=dynamodb_local.endpoint, table_name=fresh_table.name)
    server = serve(settings)
    yield server.url
    server.stop()


def test_health_reports_a_real_dynamodb_check(api: str) -> None:
    response = httpx.get(f"{api}/health")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "healthy"
    assert body["environment"] == "local" and body["version"]
    assert body["checks"]["dynamodb"]["status"] == "healthy"
    assert body["checks"]["dynamodb"]["latency_ms"] > 0


def test_correlation_id_is_echoed_or_generated(api: str) -> None:
    echoed = httpx.get(f"{api}/health", headers={"X-Correlation-ID": "trace-7"})
    assert echoed.headers["x-correlation-id"] == "trace-7"
    generated = httpx.get(f"{api}/health").headers["x-correlation-id"]
    assert len(generated) == 36


def test_unknown_route_is_a_404_envelope(api: str) -> None:
    response = httpx.post(f"{api}/api/v2/nothing-here", json={})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert "POST /api/v2/nothing-here" in response.json()["error"]["message"]


def test_health_is_unhealthy_503_when_dynamodb_is_down() -> None:
    # Given settings pointing at a port where nothing listens,
    # When /health is called, Then it answers 503 unhealthy naming the failure (no 500).
    settings = Settings(dynamodb_endpoint=f"http://127.0.0.1:{free_port()}", table_name="gone")
    server = serve(settings)
    try:
        response = httpx.get(f"{server.url}/health", timeout=30)
    finally:
        server.stop()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["dynamodb"]["status"] == "unhealthy"
    assert "error" in body["checks"]["dynamodb"]

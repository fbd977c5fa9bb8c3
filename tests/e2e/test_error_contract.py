"""The error contract of API.md over HTTP: the envelope and status of every error the code can
answer that no other module provokes, the correlation ID on every answer (errors included),
and CORS for the workbench's origin."""

from __future__ import annotations

import http.client
import re
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from services.local.function_url_event import MAX_BODY_BYTES
from services.local.processes import free_port
from services.store import keys
from services.store.table import dynamodb_table
from tests.e2e.api_support import error_code, function_instance, sign_in, snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

WORKBENCH = "http://127.0.0.1:5006"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def create_configuration(client: httpx.Client, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post(
        "/api/v2/configurations", headers=headers, json={"name": "mine", "tickers": ["AAPL"]}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# --- statuses and codes no other module provokes -------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/v2/nothing-here"), ("TRACE", "/api/v2/nothing/here")]
)
def test_an_unknown_route_is_a_404_envelope(client, method, path) -> None:
    response = client.request(method, path, headers=sign_in(client))

    assert response.status_code == 404, response.text
    assert error_code(response) == "NOT_FOUND"
    assert f"{method} {path}" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v2/configurations", "GET, POST"),  # a served path, not with this method
        ("POST", "/health", "GET"),
        ("TRACE", "/api/v2/alerts/a-1", "DELETE, PATCH"),
        ("QUERY", "/api/v2/auth/me", "GET"),
    ],
)
def test_a_method_the_path_does_not_serve_is_a_405_envelope_with_allow(
    client, method, path, allowed
) -> None:
    response = client.request(method, path, headers={**sign_in(client), "X-Correlation-ID": "m-1"})

    assert response.status_code == 405, response.text
    assert error_code(response) == "METHOD_NOT_ALLOWED"
    assert response.headers["Allow"] == allowed
    assert response.headers["X-Correlation-ID"] == "m-1"


@pytest.mark.parametrize("config_id", ["a.b", "x" * 65, "%2E%2E"])
def test_a_malformed_configuration_id_is_a_400_naming_the_parameter(client, config_id) -> None:
    response = client.get(f"/api/v2/configurations/{config_id}", headers=sign_in(client))

    assert response.status_code == 400, response.text
    assert error_code(response) == "BAD_PARAMETER"
    assert "config_id" in response.json()["error"]["message"]


def test_ingestion_on_demand_is_501_where_no_pipeline_runs(stack, client, operator) -> None:
    # The API-only stack has no ingestion runner: the operator is told, nothing is written.
    before = snapshot(stack)

    response = client.post("/api/v2/ops/ingestion/run", headers=operator)

    assert response.status_code == 501, response.text
    assert error_code(response) == "NOT_AVAILABLE"
    assert snapshot(stack) == before
    assert client.get("/api/v2/ops/pipeline", headers=operator).status_code == 200


def test_oauth_without_a_provider_is_503_not_configured(stack) -> None:
    assert stack.settings is not None
    unconfigured = stack.settings.model_copy(update={"oauth_issuer": None, "oauth_client_id": None})
    with function_instance(unconfigured, dynamodb_table(stack.settings)) as other:
        urls = other.get("/api/v2/auth/oauth/urls")
        callback = other.post(
            "/api/v2/auth/oauth/callback", json={"provider": "google", "code": "c", "state": "s"}
        )

    for response in (urls, callback):
        assert response.status_code == 503, response.text
        assert error_code(response) == "OAUTH_NOT_CONFIGURED"
        assert int(response.headers["Retry-After"]) > 0


class InterleavedTable:
    """The table, except that the first read of `key` runs `meanwhile` before answering with
    what it had read: a write by someone else between our read and our write, on cue."""

    def __init__(self, table: Any, key: dict[str, str], meanwhile: Callable[[], None]) -> None:
        self._table = table
        self._key = key
        self._meanwhile: Callable[[], None] | None = meanwhile

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def get_item(self, **kwargs: Any) -> Any:
        response = self._table.get_item(**kwargs)
        if kwargs.get("Key") == self._key and self._meanwhile is not None:
            meanwhile, self._meanwhile = self._meanwhile, None
            meanwhile()
        return response


def test_a_lost_update_is_409_conflict_and_the_other_write_stands(stack, client) -> None:
    owner = sign_in(client)
    user_id = client.get("/api/v2/auth/me", headers=owner).json()["user_id"]
    config = create_configuration(client, owner)
    path = f"/api/v2/configurations/{config['config_id']}"
    key = keys.user_config(user_id, config["config_id"])
    table = dynamodb_table(stack.settings)

    def renamed_elsewhere() -> None:
        # Another instance's update, written straight to the table: a request through the
        # stack from inside this instance's request would share Powertools' current event.
        table.update_item(
            Key=key,
            UpdateExpression="SET #name = :name, version = version + :one",
            ExpressionAttributeNames={"#name": "name"},
            ExpressionAttributeValues={":name": "theirs", ":one": 1},
        )

    interleaved = InterleavedTable(table, key, renamed_elsewhere)
    with function_instance(stack.settings, interleaved) as other:
        response = other.patch(path, headers=owner, json={"name": "ours"})

    assert response.status_code == 409, response.text
    assert error_code(response) == "CONFLICT"
    after = client.get(path, headers=owner).json()
    assert (after["name"], after["version"]) == ("theirs", 2)


class FailingQueries:
    """The table, except that every query raises `error`."""

    def __init__(self, table: Any, error: Exception) -> None:
        self._table = table
        self._error = error

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def query(self, **kwargs: Any) -> Any:
        raise self._error


def dynamodb_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "internal detail"}}, "Query")


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RuntimeError("internal detail: /srv/secret/path line 42"), 500, "INTERNAL_ERROR"),
        (dynamodb_error("ValidationException"), 500, "INTERNAL_ERROR"),  # our bug, not theirs
        (dynamodb_error("ProvisionedThroughputExceededException"), 503, "STORE_UNAVAILABLE"),
        (dynamodb_error("ThrottlingException"), 503, "STORE_UNAVAILABLE"),
    ],
    ids=["bug", "invalid request", "throughput exceeded", "throttled"],
)
def test_a_failure_inside_is_an_envelope_without_its_details(
    stack, client, error, status, code
) -> None:
    headers = {**sign_in(client), "X-Correlation-ID": "bug-1"}
    table = FailingQueries(dynamodb_table(stack.settings), error)
    with function_instance(stack.settings, table) as other:
        response = other.get("/api/v2/configurations", headers=headers)

    assert response.status_code == status, response.text
    assert error_code(response) == code
    assert "internal detail" not in response.text and "secret" not in response.text
    assert response.headers["X-Correlation-ID"] == "bug-1"  # what a person reports to find it
    assert ("Retry-After" in response.headers) == (status == 503)


def test_the_data_store_down_is_503_with_retry_after(stack) -> None:
    # Nothing listens on this port: every read fails to connect.
    assert stack.settings is not None
    down = stack.settings.model_copy(
        update={"dynamodb_endpoint": f"http://127.0.0.1:{free_port()}"}
    )
    with function_instance(down) as other:
        response = other.get("/api/v2/auth/me", headers={"Authorization": "Bearer some-token"})

    assert response.status_code == 503, response.text
    assert error_code(response) == "STORE_UNAVAILABLE"
    assert int(response.headers["Retry-After"]) > 0


def test_a_body_over_the_function_url_limit_is_a_413_envelope(stack) -> None:
    assert stack.api is not None
    # A connection of its own: the server answers without reading the body.
    response = httpx.post(
        f"{stack.api.url}/api/v2/configurations",
        content=b"x" * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert error_code(response) == "PAYLOAD_TOO_LARGE"


def raw_exchange(stack, request: bytes) -> httpx.Response:
    """`request` sent byte for byte (httpx would fix its framing), and the answer read back."""
    assert stack.api is not None
    host, port = stack.api.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(request)
        answer = http.client.HTTPResponse(connection)
        answer.begin()
        return httpx.Response(answer.status, headers=answer.getheaders(), content=answer.read())


def test_a_negative_content_length_is_a_400_envelope_not_a_read_to_the_end(stack) -> None:
    request = (
        b"POST /api/v2/configurations HTTP/1.1\r\nHost: api\r\n"
        b"Content-Type: application/json\r\nContent-Length: -1\r\n"
        b"X-Correlation-ID: frame-1\r\n\r\n{}"
    )

    response = raw_exchange(stack, request)

    assert response.status_code == 400
    assert error_code(response) == "MALFORMED_REQUEST"
    assert response.headers["X-Correlation-ID"] == "frame-1"


def test_a_chunked_body_is_read_and_over_the_limit_is_a_413_envelope(client, stack) -> None:
    def chunks(total: int) -> Iterator[bytes]:
        sent = 0
        while sent < total:
            sent += 64 * 1024
            yield b" " * (64 * 1024)

    small = client.post(
        "/api/v2/configurations",
        headers={**sign_in(client), "Content-Type": "application/json"},
        content=iter([b'{"name": "chunked", ', b'"tickers": ["AAPL"]}']),
    )
    large = client.post(
        "/api/v2/configurations",
        headers={"Content-Type": "application/json"},
        content=chunks(MAX_BODY_BYTES + 1),
    )

    assert small.status_code == 201, small.text  # httpx sends an iterator chunked
    assert large.status_code == 413
    assert error_code(large) == "PAYLOAD_TOO_LARGE"
    assert large.headers["X-Correlation-ID"]


def test_a_transfer_coding_other_than_chunked_is_a_501_envelope(stack) -> None:
    request = b"POST /api/v2/alerts HTTP/1.1\r\nHost: api\r\nTransfer-Encoding: gzip\r\n\r\n"

    response = raw_exchange(stack, request)

    assert response.status_code == 501
    assert error_code(response) == "UNSUPPORTED_TRANSFER_ENCODING"


def test_a_body_that_is_not_json_is_a_415_envelope(client) -> None:
    response = client.patch(
        "/api/v2/configurations/c-1",
        headers={**sign_in(client), "Content-Type": "text/plain"},
        content=b'{"name": "x"}',
    )

    assert response.status_code == 415, response.text
    assert error_code(response) == "UNSUPPORTED_MEDIA_TYPE"


def test_a_json_body_that_is_not_utf8_is_a_400_invalid_json(client) -> None:
    response = client.post(
        "/api/v2/alerts",
        headers={**sign_in(client), "Content-Type": "application/json"},
        content=b'{"config_id": "\xff\xfe"}',
    )

    assert response.status_code == 400, response.text
    assert error_code(response) == "INVALID_JSON"


# --- correlation ID ------------------------------------------------------------------------


ANSWERS: list[tuple[str, str, str, dict[str, Any], int]] = [
    # (label, method, path, request options, status)
    ("ok", "GET", "/api/v2/auth/me", {}, 200),
    ("no token", "GET", "/api/v2/auth/me", {"signed_in": False}, 401),
    ("absent item", "GET", "/api/v2/configurations/no-such-config", {}, 404),
    ("no route", "GET", "/api/v2/nothing-here", {}, 404),
    ("bad parameter", "GET", "/api/v2/tickers/search", {"params": {"limit": "lots"}}, 400),
    ("bad json", "POST", "/api/v2/configurations", {"content": b"{nope"}, 400),
    ("bad body", "POST", "/api/v2/configurations", {"json": {"name": 1}}, 422),
    (
        "rule broken",
        "POST",
        "/api/v2/configurations",
        {"json": {"name": "x", "tickers": ["ZZZZ"]}},
        400,
    ),
    ("ops refused", "GET", "/api/v2/ops/pipeline", {}, 401),
]


@pytest.mark.parametrize(
    ("method", "path", "options", "status"),
    [answer[1:] for answer in ANSWERS],
    ids=[answer[0] for answer in ANSWERS],
)
def test_every_answer_echoes_the_callers_correlation_id(
    client, method, path, options, status
) -> None:
    options = dict(options)
    headers = {"X-Correlation-ID": "trace-42", "Content-Type": "application/json"}
    if options.pop("signed_in", True):
        headers.update(sign_in(client))

    response = client.request(method, path, headers=headers, **options)

    assert response.status_code == status, response.text
    assert response.headers["X-Correlation-ID"] == "trace-42"
    if status >= 400:
        error_code(response)


@pytest.mark.parametrize("path", ["/health", "/api/v2/auth/me", "/api/v2/tickers/search"])
def test_without_one_a_fresh_correlation_id_is_made_per_request(client, path) -> None:
    first, second = client.get(path), client.get(path)

    made = [first.headers["X-Correlation-ID"], second.headers["X-Correlation-ID"]]
    assert all(UUID.match(value) for value in made) and made[0] != made[1]


@pytest.mark.parametrize(
    "sent",
    ["has spaces", "x" * 129, "semi;colon", "tab\there"],
    ids=["spaces", "too long", "semicolon", "tab"],
)
def test_a_malformed_correlation_id_is_replaced_not_echoed(client, sent) -> None:
    response = client.get("/api/v2/auth/me", headers={"X-Correlation-ID": sent})

    assert response.status_code == 401
    assert UUID.match(response.headers["X-Correlation-ID"])


# --- CORS for the workbench ----------------------------------------------------------------


def preflight(client: httpx.Client, origin: str, method: str, path: str) -> httpx.Response:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type,x-correlation-id",
        },
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v2/configurations"),
        ("PATCH", "/api/v2/configurations/some-id"),
        ("DELETE", "/api/v2/alerts/some-id"),
        ("GET", "/api/v2/tickers/AAPL/ohlc"),
    ],
)
def test_a_preflight_from_the_workbench_is_allowed_without_a_token(client, method, path) -> None:
    response = preflight(client, WORKBENCH, method, path)

    assert response.status_code == 204, response.text
    assert response.headers["Access-Control-Allow-Origin"] == WORKBENCH
    assert method in response.headers["Access-Control-Allow-Methods"].split(",")
    allowed = {h.lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-correlation-id"} <= allowed
    assert response.headers["X-Correlation-ID"]


def test_answers_to_the_workbench_expose_the_contract_headers(client) -> None:
    headers = {"Origin": WORKBENCH, **sign_in(client)}
    for response in (
        client.get("/api/v2/configurations", headers=headers),
        client.get("/api/v2/configurations", headers={"Origin": WORKBENCH}),  # a 401
    ):
        assert response.headers["Access-Control-Allow-Origin"] == WORKBENCH
        exposed = {h.lower() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"x-correlation-id", "x-cache", "retry-after"} <= exposed


def test_another_origin_is_not_allowed(client) -> None:
    stranger = "http://evil.example"
    answers = (
        preflight(client, stranger, "DELETE", "/api/v2/configurations/some-id"),
        client.get("/api/v2/configurations", headers={"Origin": stranger, **sign_in(client)}),
    )

    for response in answers:
        assert "Access-Control-Allow-Origin" not in response.headers

"""The authorization matrix over HTTP. The routes come from the running app's own OpenAPI
document, so a route added tomorrow is in the matrix the day it is served: every protected
route refuses every kind of unusable credential with the 401 envelope, another user's
resources answer 404, the ops routes want the operator token, and no refused request changes
a single item of the table."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from services.adapters.models import Candle
from services.clock import epoch_seconds
from services.local.stack import LocalStack
from services.store import keys
from services.store.models import Session
from services.store.ohlc_cache import CachedCandles, DynamoOhlcCache
from services.store.sessions import DynamoSessionRepository, token_hash
from services.store.table import dynamodb_table
from tests.e2e.api_support import (
    error_code,
    function_instance,
    operator_headers,
    sign_in,
    snapshot,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

Operation = tuple[str, str]  # (method, path template as the document spells it)

# Routes anyone may call (checked against services/api/*.py): health, the sign-in journeys,
# ticker look-up, and market data per ticker. A configuration's sentiment is not among them.
OPEN: set[Operation] = {
    ("GET", "/health"),
    ("POST", "/api/v2/auth/anonymous"),
    ("POST", "/api/v2/auth/magic-link"),
    ("POST", "/api/v2/auth/magic-link/verify"),
    ("POST", "/api/v2/auth/magic-link/preview"),
    ("GET", "/api/v2/auth/oauth/urls"),
    ("POST", "/api/v2/auth/oauth/callback"),
    ("GET", "/api/v2/tickers/search"),
    ("GET", "/api/v2/tickers/validate"),
    ("GET", "/api/v2/tickers/{ticker}/ohlc"),
    ("GET", "/api/v2/tickers/{ticker}/sentiment/history"),
    # Opened from an e-mail: the signed token in the query is the authority.
    ("GET", "/api/v2/notifications/unsubscribe"),
}
OPERATOR_PREFIX = "/api/v2/ops/"
# The protected routes served today: the derived list must hold at least these.
EXPECTED_PROTECTED: set[Operation] = {
    ("GET", "/api/v2/auth/me"),
    ("POST", "/api/v2/auth/signout"),
    ("GET", "/api/v2/configurations"),
    ("POST", "/api/v2/configurations"),
    ("GET", "/api/v2/configurations/{config_id}"),
    ("PATCH", "/api/v2/configurations/{config_id}"),
    ("DELETE", "/api/v2/configurations/{config_id}"),
    ("GET", "/api/v2/configurations/{config_id}/sentiment"),
    ("GET", "/api/v2/alerts"),
    ("POST", "/api/v2/alerts"),
    ("GET", "/api/v2/alerts/quota"),
    ("PATCH", "/api/v2/alerts/{alert_id}"),
    ("DELETE", "/api/v2/alerts/{alert_id}"),
    ("GET", "/api/v2/notifications"),
    ("GET", "/api/v2/notifications/preferences"),
    ("PATCH", "/api/v2/notifications/preferences"),
}
EXPECTED_OPERATOR: set[Operation] = {
    ("POST", "/api/v2/ops/ingestion/run"),
    ("GET", "/api/v2/ops/pipeline"),
    ("GET", "/api/v2/ops/metrics"),
    ("POST", "/api/v2/ops/metrics/run"),
}
# Bodies that would really take or change the owner's data if ownership were not checked
# (any other route gets the smallest body its schema accepts).
STEALING_BODIES: dict[Operation, dict[str, Any]] = {
    ("PATCH", "/api/v2/configurations/{config_id}"): {"name": "stolen", "tickers": ["MSFT"]},
    ("PATCH", "/api/v2/alerts/{alert_id}"): {"enabled": False, "threshold": 0.9},
}
CREDENTIALS = [
    "none",
    "bearer without token",
    "bearer null",
    "basic with garbage",
    "basic with the owner's token",
    "token without scheme",
    "garbage",
    "made up",
    "owner's token tampered",
    "oversized",
    "not ascii",
    "expired",
    "past its stored TTL",
    "revoked by sign-out",
    "account gone",
    "magic-link token",
    "oauth state",
    "operator token",
    "owner's user id header",
    "owner's token in the query",
    "owner's token in a cookie",
]
LINK_TOKEN = re.compile(r"magic_token=([A-Za-z0-9_-]+)")


@dataclass(frozen=True)
class World:
    """The owner's resources and the credentials the tests send against them."""

    owner: dict[str, str]
    owner_id: str
    config_id: str
    alert_id: str
    intruder: dict[str, str]
    refused: dict[str, dict[str, Any]]  # label -> request options


@pytest.fixture(scope="module")
def http(stack: LocalStack) -> Iterator[httpx.Client]:
    assert stack.api is not None
    with httpx.Client(base_url=stack.api.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def document(http: httpx.Client) -> dict[str, Any]:
    response = http.get("/api/v2/openapi.json")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def operations(document: dict[str, Any]) -> dict[Operation, dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    }


def protected(document: dict[str, Any]) -> dict[Operation, dict[str, Any]]:
    return {
        op: spec
        for op, spec in operations(document).items()
        if op not in OPEN and not op[1].startswith(OPERATOR_PREFIX)
    }


def operator_only(document: dict[str, Any]) -> dict[Operation, dict[str, Any]]:
    return {
        op: spec for op, spec in operations(document).items() if op[1].startswith(OPERATOR_PREFIX)
    }


# --- requests built from the document ------------------------------------------------------


def example(schema: dict[str, Any], document: dict[str, Any]) -> Any:
    """The smallest value the schema accepts: enough to get past validation to the
    authorization check, which is what the matrix is about."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return example(document["components"]["schemas"][name], document)
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            options = [s for s in schema[combined] if s.get("type") != "null"]
            return example(options[0], document)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example(properties[name], document) for name in schema.get("required", [])}
    if kind == "array":
        return [example(schema.get("items", {}), document)] * schema.get("minItems", 0)
    if kind in ("integer", "number"):
        return schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
    if kind == "boolean":
        return False
    return "x" * max(1, schema.get("minLength", 1))


def request_for(
    operation: Operation, spec: dict[str, Any], document: dict[str, Any], world: World
) -> dict[str, Any]:
    """Method, URL and body of a schema-valid request against the owner's resources."""
    method, path = operation
    owned = {
        "config_id": world.config_id,
        "alert_id": world.alert_id,
        "ticker": "AAPL",
        "correlation_id": str(uuid.uuid4()),
    }
    query: dict[str, Any] = {}
    for parameter in spec.get("parameters", []):
        name = parameter["name"]
        if parameter["in"] == "path":
            assert name in owned, f"no value for path parameter {name} of {method} {path}"
            path = path.replace(f"{{{name}}}", owned[name])
        elif parameter["in"] == "query" and parameter.get("required"):
            query[name] = example(parameter.get("schema", {}), document)
    request: dict[str, Any] = {"method": method, "url": path, "params": query}
    if operation in STEALING_BODIES:
        request["json"] = STEALING_BODIES[operation]
    elif "requestBody" in spec:
        schema = spec["requestBody"]["content"]["application/json"]["schema"]
        request["json"] = example(schema, document)
    return request


def send(
    client: httpx.Client, request: dict[str, Any], credential: dict[str, Any]
) -> httpx.Response:
    return client.request(
        request["method"],
        request["url"],
        json=request.get("json"),
        params={**request["params"], **credential.get("params", {})},
        headers=credential.get("headers", {}),
    )


# --- the owner, the intruder and the unusable credentials ---------------------------------


def stored_session(stack: LocalStack, user_id: str, expires_at: datetime) -> str:
    """A session of `user_id` written straight to the table; returns its bearer token."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    DynamoSessionRepository(dynamodb_table(stack.settings)).create(  # type: ignore[arg-type]
        Session(
            session_id=str(uuid.uuid4()),
            user_id=user_id,
            auth_type="anonymous",
            token_hash=token_hash(token),
            created_at=min(now, expires_at) - timedelta(days=1),
            expires_at=expires_at,
        )
    )
    return token


def bearer(token: str) -> dict[str, Any]:
    return {"headers": {"Authorization": f"Bearer {token}"}}


def unusable_credentials(
    stack: LocalStack, client: httpx.Client, owner_id: str, owner_token: str
) -> dict[str, dict[str, Any]]:
    """Request options per label: each carries a credential that must not let anyone in."""
    table = dynamodb_table(stack.settings)  # type: ignore[arg-type]
    now = datetime.now(UTC)

    def stored_ttl(token: str, moment: datetime) -> None:
        table.update_item(
            Key=keys.token(token_hash(token)),
            UpdateExpression="SET expires_at = :ttl",
            ExpressionAttributeValues={":ttl": epoch_seconds(moment)},
        )

    # Two checks, one each: the session's own expiry has passed though DynamoDB's TTL would
    # keep the item a day longer; and the TTL has passed though the reaper (lazy) has not run.
    expired = stored_session(stack, owner_id, now - timedelta(hours=1))
    stored_ttl(expired, now + timedelta(days=1))
    past_ttl = stored_session(stack, owner_id, now + timedelta(days=1))
    stored_ttl(past_ttl, now - timedelta(minutes=1))

    revoked = stored_session(stack, owner_id, now + timedelta(days=1))
    signed_out = client.post("/api/v2/auth/signout", headers=bearer(revoked)["headers"])
    assert signed_out.status_code == 200, signed_out.text

    orphan = client.post("/api/v2/auth/anonymous").json()
    table.delete_item(Key=keys.user_profile(orphan["user_id"]))

    assert stack.sendgrid is not None
    address = f"matrix-{uuid.uuid4().hex[:10]}@example.com"
    assert client.post("/api/v2/auth/magic-link", json={"email": address}).status_code == 202
    outbox = httpx.get(f"{stack.sendgrid.url}/_emulator/outbox", params={"to": address}).json()
    link = LINK_TOKEN.search(outbox[-1]["text"])
    assert link is not None

    authorize = client.get("/api/v2/auth/oauth/urls").json()["providers"]["google"]
    state = parse_qs(urlsplit(authorize["authorize_url"]).query)["state"][0]

    tampered = owner_token[:-1] + ("A" if owner_token[-1] != "A" else "B")
    return {
        "none": {},
        "bearer without token": {"headers": {"Authorization": "Bearer"}},
        "bearer null": {"headers": {"Authorization": "Bearer null"}},  # a client's missing token
        "basic with garbage": {"headers": {"Authorization": "Basic abc"}},
        "basic with the owner's token": {"headers": {"Authorization": f"Basic {owner_token}"}},
        "token without scheme": {"headers": {"Authorization": owner_token}},
        "garbage": {"headers": {"Authorization": "garbage;%00<>"}},
        "made up": bearer(secrets.token_urlsafe(32)),
        "owner's token tampered": bearer(tampered),
        "oversized": bearer("A" * 8000),
        "not ascii": {"headers": {"Authorization": "Bearer jéton".encode("latin-1")}},
        "expired": bearer(expired),
        "past its stored TTL": bearer(past_ttl),
        "revoked by sign-out": bearer(revoked),
        "account gone": bearer(orphan["token"]),
        "magic-link token": bearer(link.group(1)),
        "oauth state": bearer(state),
        "operator token": {"headers": operator_headers(stack)},
        "owner's user id header": {"headers": {"X-User-ID": owner_id}},
        "owner's token in the query": {
            "params": {"access_token": owner_token, "token": owner_token}
        },
        "owner's token in a cookie": {
            "headers": {"Cookie": f"token={owner_token}; session={owner_token}"}
        },
    }


def cache_prices(stack: LocalStack, ticker: str) -> None:
    """A fresh copy of `ticker`'s default prices (1M, daily) in the table's cache: the price
    route is open for cached prices, while a fetch from the provider needs a session."""
    now = datetime.now(UTC)
    DynamoOhlcCache(dynamodb_table(stack.settings)).put(  # type: ignore[arg-type]
        CachedCandles(
            ticker=ticker,
            resolution="D",
            range_name="1M",
            candles=(Candle(now - timedelta(days=1), 10.0, 11.0, 9.5, 10.5, 1000),),
            start_date=(now - timedelta(days=30)).date(),
            end_date=now.date(),
            source="tiingo",
            fetched_at=now,
            fresh_until=now + timedelta(hours=1),
        ),
        now + timedelta(days=1),
    )


@pytest.fixture(scope="module")
def world(stack: LocalStack, http: httpx.Client) -> World:
    cache_prices(stack, "AAPL")
    owner = sign_in(http)
    owner_token = owner["Authorization"].removeprefix("Bearer ")
    owner_id = http.get("/api/v2/auth/me", headers=owner).json()["user_id"]
    config = http.post(
        "/api/v2/configurations", headers=owner, json={"name": "mine", "tickers": ["AAPL"]}
    )
    assert config.status_code == 201, config.text
    config_id = config.json()["config_id"]
    alert = http.post(
        "/api/v2/alerts",
        headers=owner,
        json={
            "config_id": config_id,
            "ticker": "AAPL",
            "alert_type": "sentiment_threshold",
            "direction": "below",
            "threshold": -0.4,
        },
    )
    assert alert.status_code == 201, alert.text
    refused = unusable_credentials(stack, http, owner_id, owner_token)
    assert set(refused) == set(CREDENTIALS)
    return World(owner, owner_id, config_id, alert.json()["alert_id"], sign_in(http), refused)


# --- the tests -----------------------------------------------------------------------------


def test_the_routes_are_read_from_the_running_app(document) -> None:
    served = set(operations(document))
    assert not OPEN - served, "open routes no longer served"
    assert not EXPECTED_PROTECTED - set(protected(document)), "protected routes missing"
    assert not EXPECTED_OPERATOR - set(operator_only(document)), "operator routes missing"


def test_open_routes_answer_without_a_token(http, document, world) -> None:
    for (method, path), spec in operations(document).items():
        if (method, path) not in OPEN:
            continue
        response = send(http, request_for((method, path), spec, document, world), {})
        assert response.status_code != 401, (method, path, response.text)


def test_the_owners_token_reads_every_protected_route(http, document, world) -> None:
    # The control of the matrix: the same requests with the owner's bearer get in, so each
    # refusal there is the credential's doing, not a malformed request's.
    for operation, spec in sorted(protected(document).items()):
        if operation[0] == "GET":
            request = request_for(operation, spec, document, world)
            response = send(http, request, {"headers": world.owner})
            assert response.status_code == 200, (operation, response.text)


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_every_protected_route_refuses_an_unusable_credential(
    stack, http, document, world, credential
) -> None:
    sent = world.refused[credential]
    # Tokens are long; short values such as "Bearer" may appear in a message legitimately.
    values = [*sent.get("headers", {}).values(), *sent.get("params", {}).values()]
    texts = [v.decode("latin-1") if isinstance(v, bytes) else v for v in values]
    tokens = [t.split()[-1] for t in texts if t.split() and len(t.split()[-1]) >= 16]
    failures = []
    before = snapshot(stack)

    for operation, spec in sorted(protected(document).items()):
        response = send(http, request_for(operation, spec, document, world), sent)
        if response.status_code != 401 or error_code(response) != "UNAUTHORIZED":
            failures.append(f"{operation}: {response.status_code} {response.text[:200]}")
        if any(token in response.text for token in tokens):
            failures.append(f"{operation}: the answer repeats the credential")

    assert not failures, "\n".join(failures)
    assert snapshot(stack) == before
    # The owner's data is as it was, and the owner still gets in.
    config = http.get(f"/api/v2/configurations/{world.config_id}", headers=world.owner)
    assert config.status_code == 200 and config.json()["name"] == "mine"


def test_another_users_token_finds_none_of_the_owners_resources(
    stack, http, document, world
) -> None:
    before = snapshot(stack)
    failures = []
    intruder = {"headers": world.intruder}
    for operation, spec in sorted(protected(document).items()):
        if "{" not in operation[1]:
            continue  # lists and creations: their own data, checked below
        response = send(http, request_for(operation, spec, document, world), intruder)
        # 404 as for an absent id, never 403: nothing tells the intruder the id exists.
        if response.status_code != 404 or error_code(response) != "NOT_FOUND":
            failures.append(f"{operation}: {response.status_code} {response.text[:200]}")
    # An alert on the owner's configuration is refused the same way.
    rule = {
        "config_id": world.config_id,
        "ticker": "AAPL",
        "alert_type": "sentiment_threshold",
        "direction": "above",
        "threshold": 0.5,
    }
    taken = http.post("/api/v2/alerts", headers=world.intruder, json=rule)
    if taken.status_code != 404 or error_code(taken) != "NOT_FOUND":
        failures.append(f"POST /api/v2/alerts: {taken.status_code} {taken.text[:200]}")

    assert not failures, "\n".join(failures)
    assert snapshot(stack) == before
    for path in ("/api/v2/configurations", "/api/v2/alerts"):
        listed = http.get(path, headers=world.intruder)
        assert listed.status_code == 200
        assert world.config_id not in listed.text and world.alert_id not in listed.text


@pytest.mark.parametrize(
    "credential",
    [
        "none",
        "bearer without token",
        "basic with garbage",
        "made up",
        "expired",
        "revoked by sign-out",
    ],
)
def test_operator_routes_refuse_anything_but_the_operator_token(
    stack, http, document, world, credential
) -> None:
    attempts = {
        credential: world.refused[credential],
        "a user's valid token": {"headers": world.owner},
    }
    before = snapshot(stack)
    for label, sent in attempts.items():
        for operation, spec in sorted(operator_only(document).items()):
            response = send(http, request_for(operation, spec, document, world), sent)
            assert response.status_code == 401, (label, operation, response.text)
            assert error_code(response) == "UNAUTHORIZED"
    assert snapshot(stack) == before
    answered = http.get("/api/v2/ops/pipeline", headers=operator_headers(stack))
    assert answered.status_code == 200, answered.text


def test_a_session_revoked_through_another_instance_is_refused_at_once(stack, http) -> None:
    owner = sign_in(http)
    assert http.get("/api/v2/auth/me", headers=owner).status_code == 200
    with function_instance(stack.settings, dynamodb_table(stack.settings)) as other:
        assert other.post("/api/v2/auth/signout", headers=owner).status_code == 200

    after = http.get("/api/v2/auth/me", headers=owner)

    assert after.status_code == 401 and error_code(after) == "UNAUTHORIZED"

"""The dashboard API over HTTP on the embedded stack: anonymous sessions, configurations,
ticker look-up, the error contract of API.md, and the authorization matrix."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.local.stack import LocalStack
from services.store.models import Session
from services.store.sessions import DynamoSessionRepository
from services.store.table import dynamodb_table
from tests.e2e.api_support import error_code, sign_in, snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def test_anonymous_session_shape_me_and_signout(client) -> None:
    response = client.post("/api/v2/auth/anonymous")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "user_id",
        "token",
        "session_id",
        "auth_type",
        "created_at",
        "session_expires_at",
    }
    assert body["auth_type"] == "anonymous" and len(body["token"]) >= 32
    assert response.headers["X-Correlation-ID"]
    headers = {"Authorization": f"Bearer {body['token']}"}

    me = client.get("/api/v2/auth/me", headers=headers).json()
    assert me["user_id"] == body["user_id"]
    assert me["limits"] == {
        "max_configurations": 1,
        "max_tickers_per_configuration": 5,
        "alerts": "basic",
        "configurations_used": 0,
    }

    assert client.post("/api/v2/auth/signout", headers=headers).status_code == 200
    after = client.get("/api/v2/auth/me", headers=headers)
    assert after.status_code == 401 and error_code(after) == "UNAUTHORIZED"


def test_the_token_is_stored_only_as_its_hash(stack, client) -> None:
    token = client.post("/api/v2/auth/anonymous").json()["token"]
    dump = repr(snapshot(stack))
    assert token not in dump
    assert hashlib.sha256(token.encode()).hexdigest() in dump


def test_configuration_lifecycle_with_cache_and_soft_delete(stack, client) -> None:
    headers = sign_in(client)
    created = client.post(
        "/api/v2/configurations",
        headers=headers,
        json={"name": "  Big tech ", "tickers": ["aapl", "MSFT", "AAPL"]},
    )
    assert created.status_code == 201, created.text
    config = created.json()
    assert (config["name"], config["tickers"], config["version"]) == (
        "Big tech",
        ["AAPL", "MSFT"],
        1,
    )
    path = f"/api/v2/configurations/{config['config_id']}"

    first = client.get("/api/v2/configurations", headers=headers)
    second = client.get("/api/v2/configurations", headers=headers)
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("miss", "hit")
    assert second.json()["max_allowed"] == 1
    assert [c["config_id"] for c in second.json()["configurations"]] == [config["config_id"]]

    patched = client.patch(path, headers=headers, json={"tickers": ["NVDA", "AMD"]})
    assert patched.status_code == 200 and patched.json()["tickers"] == ["NVDA", "AMD"]
    listed = client.get("/api/v2/configurations", headers=headers)
    assert listed.headers["X-Cache"] == "miss"  # the mutation invalidated the cached list
    assert listed.json()["configurations"][0]["tickers"] == ["NVDA", "AMD"]
    assert client.get(path, headers=headers).json()["version"] == 2

    removed = client.delete(path, headers=headers)
    assert removed.status_code == 200 and removed.json()["deleted_at"]
    assert client.get(path, headers=headers).status_code == 404
    assert client.get("/api/v2/configurations", headers=headers).json()["configurations"] == []
    # Kept for audit, and the freed slot can be used again.
    kept = [i for i in snapshot(stack) if i["SK"].endswith(config["config_id"])]
    assert kept and kept[0]["deleted_at"]
    again = client.post(
        "/api/v2/configurations", headers=headers, json={"name": "Again", "tickers": ["JPM"]}
    )
    assert again.status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "code", "mentions"),
    [
        ({"name": "x", "tickers": ["AAPL", "ZZZZ"]}, 400, "INVALID_CONFIGURATION", "ZZZZ"),
        # The lengths are in the document's schema: refused before the rules run.
        ({"name": "", "tickers": ["AAPL"]}, 422, "INVALID_BODY", "name"),
        ({"name": "   ", "tickers": ["AAPL"]}, 422, "INVALID_BODY", "name"),
        ({"name": "n" * 51, "tickers": ["AAPL"]}, 422, "INVALID_BODY", "50"),
        (
            {"name": "six", "tickers": ["AAPL", "MSFT", "NVDA", "AMD", "JPM", "XOM"]},
            422,
            "INVALID_BODY",
            "5",
        ),
        ({"name": "none", "tickers": []}, 422, "INVALID_BODY", "tickers"),
        ({"tickers": ["AAPL"]}, 422, "INVALID_BODY", "name"),
        ({"name": "x", "tickers": "AAPL"}, 422, "INVALID_BODY", "tickers"),
        ({"name": "x", "tickers": ["AAPL"], "owner": "someone"}, 422, "INVALID_BODY", "owner"),
    ],
)
def test_bad_configurations_are_refused_with_a_named_problem(
    stack, client, body, status, code, mentions
) -> None:
    headers = sign_in(client)
    before = snapshot(stack)
    response = client.post("/api/v2/configurations", headers=headers, json=body)
    assert response.status_code == status, response.text
    assert error_code(response) == code
    assert mentions in response.text
    assert snapshot(stack) == before


def test_malformed_json_is_a_400(client) -> None:
    response = client.post(
        "/api/v2/configurations",
        headers={**sign_in(client), "Content-Type": "application/json"},
        content=b"{nope",
    )
    assert response.status_code == 400 and error_code(response) == "INVALID_JSON"


def test_the_configuration_limit_holds(client) -> None:
    headers = sign_in(client)
    assert (
        client.post(
            "/api/v2/configurations", headers=headers, json={"name": "one", "tickers": ["AAPL"]}
        ).status_code
        == 201
    )
    second = client.post(
        "/api/v2/configurations", headers=headers, json={"name": "two", "tickers": ["MSFT"]}
    )
    assert second.status_code == 409 and error_code(second) == "LIMIT_REACHED"


def test_ticker_search_and_validation(client) -> None:
    found = client.get("/api/v2/tickers/search", params={"q": "apple"}).json()
    assert found["results"][0]["symbol"] == "AAPL" and found["count"] >= 1
    assert (
        client.get("/api/v2/tickers/search", params={"q": "AAP"}).json()["results"][0]["symbol"]
        == "AAPL"
    )
    valid = client.get("/api/v2/tickers/validate", params={"symbol": "msft"}).json()
    assert valid["valid"] is True and valid["ticker"]["exchange"] == "NASDAQ"
    assert (
        client.get("/api/v2/tickers/validate", params={"symbol": "ZZZZ"}).json()["valid"] is False
    )
    for params in ({}, {"q": ""}, {"q": "a", "limit": "lots"}, {"q": "a", "limit": "0"}):
        response = client.get("/api/v2/tickers/search", params=params)
        assert response.status_code == 400 and error_code(response) == "BAD_PARAMETER"


def test_openapi_document_lists_the_routes(client) -> None:
    document = client.get("/api/v2/openapi.json").json()
    assert document["openapi"].startswith("3.")
    for path in (
        "/api/v2/auth/anonymous",
        "/api/v2/configurations",
        "/api/v2/configurations/{config_id}",
        "/api/v2/tickers/search",
    ):
        assert path in document["paths"]


def test_cors_allows_the_workbench_origin(client) -> None:
    response = client.options(
        "/api/v2/configurations",
        headers={"Origin": "http://127.0.0.1:5006", "Access-Control-Request-Method": "POST"},
    )
    assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:5006"


def expired_and_revoked_tokens(stack: LocalStack, user_id: str) -> dict[str, str]:
    sessions = DynamoSessionRepository(dynamodb_table(stack.settings))  # type: ignore[arg-type]
    tokens = {}
    for kind in ("expired", "revoked"):
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        session = Session(
            session_id=str(uuid.uuid4()),
            user_id=user_id,
            auth_type="anonymous",
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            created_at=now - timedelta(days=9),
            expires_at=now - timedelta(days=2) if kind == "expired" else now + timedelta(days=1),
        )
        sessions.create(session)
        if kind == "revoked":
            sessions.revoke(session, now)
        tokens[kind] = token
    return tokens


def test_authorization_matrix(stack, client) -> None:
    owner = sign_in(client)
    owner_id = client.get("/api/v2/auth/me", headers=owner).json()["user_id"]
    config = client.post(
        "/api/v2/configurations", headers=owner, json={"name": "mine", "tickers": ["AAPL"]}
    ).json()
    other = sign_in(client)
    tokens = expired_and_revoked_tokens(stack, owner_id)
    refused_credentials = {
        "none": {},
        "malformed": {"Authorization": "Bearer"},
        "wrong scheme": {"Authorization": f"Basic {owner['Authorization'][7:]}"},
        "made up": {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"},
        "expired": {"Authorization": f"Bearer {tokens['expired']}"},
        "revoked": {"Authorization": f"Bearer {tokens['revoked']}"},
        "user id header": {"X-User-ID": owner_id},
    }
    item = f"/api/v2/configurations/{config['config_id']}"
    routes = [
        ("GET", "/api/v2/auth/me", None),
        ("POST", "/api/v2/auth/signout", None),
        ("GET", "/api/v2/configurations", None),
        ("POST", "/api/v2/configurations", {"name": "x", "tickers": ["MSFT"]}),
        ("GET", item, None),
        ("PATCH", item, {"name": "stolen"}),
        ("DELETE", item, None),
    ]
    before = snapshot(stack)
    for method, path, body in routes:
        for label, headers in refused_credentials.items():
            response = client.request(method, path, headers=headers, json=body)
            assert response.status_code == 401, (method, path, label, response.text)
            assert error_code(response) == "UNAUTHORIZED"
    # Another user's valid token sees nothing of the owner's: 404, never 403 (no hint).
    for method, path, body in routes[4:]:
        response = client.request(method, path, headers=other, json=body)
        assert response.status_code == 404, (method, path, response.text)
    assert snapshot(stack) == before
    assert client.get(item, headers=owner).json()["name"] == "mine"

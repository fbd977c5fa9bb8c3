"""Alert rules over HTTP: CRUD on a configuration's tickers, limits per account kind, quota,
and refusals that change nothing."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.api_support import error_code, sign_in, snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


@pytest.fixture
def owner(client: httpx.Client) -> tuple[dict[str, str], str]:
    headers = sign_in(client)
    config = client.post(
        "/api/v2/configurations",
        headers=headers,
        json={"name": "watch", "tickers": ["AAPL", "NVDA"]},
    )
    assert config.status_code == 201
    return headers, config.json()["config_id"]


def rule(config: str, **changes: object) -> dict[str, object]:
    return {
        "config_id": config,
        "ticker": "AAPL",
        "alert_type": "sentiment_threshold",
        "direction": "below",
        "threshold": -0.4,
        **changes,
    }


def test_alert_lifecycle(client, owner) -> None:
    headers, config_id = owner
    created = client.post("/api/v2/alerts", headers=headers, json=rule(config_id, ticker="nvda"))
    assert created.status_code == 201, created.text
    alert = created.json()
    assert (alert["ticker"], alert["enabled"], alert["threshold"]) == ("NVDA", True, -0.4)

    listed = client.get("/api/v2/alerts", headers=headers).json()
    assert [a["alert_id"] for a in listed["alerts"]] == [alert["alert_id"]]
    assert listed["max_allowed"] == 2

    path = f"/api/v2/alerts/{alert['alert_id']}"
    patched = client.patch(path, headers=headers, json={"threshold": -0.6, "enabled": False})
    assert patched.status_code == 200
    assert (patched.json()["threshold"], patched.json()["enabled"]) == (-0.6, False)

    assert client.delete(path, headers=headers).status_code == 200
    assert client.get("/api/v2/alerts", headers=headers).json()["alerts"] == []
    assert client.delete(path, headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"ticker": "MSFT"}, 400, "INVALID_ALERT"),  # not one of the configuration's tickers
        ({"threshold": 1.5}, 400, "INVALID_ALERT"),
        ({"config_id": "not-mine"}, 404, "NOT_FOUND"),
        ({"direction": "sideways"}, 422, "INVALID_BODY"),
        ({"alert_type": "volatility_threshold", "threshold": 5}, 403, "NOT_ALLOWED"),
    ],
)
def test_bad_rules_are_refused_and_change_nothing(
    stack, client, owner, changes, status, code
) -> None:
    headers, config_id = owner
    before = snapshot(stack)
    response = client.post("/api/v2/alerts", headers=headers, json=rule(config_id, **changes))
    assert response.status_code == status, response.text
    assert error_code(response) == code
    assert snapshot(stack) == before


def test_the_alert_limit_holds_and_deleting_frees_a_slot(client, owner) -> None:
    headers, config_id = owner
    ids = [
        client.post("/api/v2/alerts", headers=headers, json=rule(config_id)).json()["alert_id"]
        for _ in range(2)
    ]
    third = client.post("/api/v2/alerts", headers=headers, json=rule(config_id))
    assert third.status_code == 409 and error_code(third) == "LIMIT_REACHED"
    client.delete(f"/api/v2/alerts/{ids[0]}", headers=headers)
    assert client.post("/api/v2/alerts", headers=headers, json=rule(config_id)).status_code == 201


def test_quota_of_an_anonymous_session(client, owner) -> None:
    headers, _ = owner
    quota = client.get("/api/v2/alerts/quota", headers=headers).json()
    assert quota["daily_limit"] == 0 and quota["remaining"] == 0  # no address to e-mail
    assert quota["used_today"] == 0 and quota["resets_at"].endswith("T00:00:00.000000Z")


def test_another_users_alerts_are_invisible_and_untouchable(stack, client, owner) -> None:
    headers, config_id = owner
    alert = client.post("/api/v2/alerts", headers=headers, json=rule(config_id)).json()
    intruder = sign_in(client)
    before = snapshot(stack)
    path = f"/api/v2/alerts/{alert['alert_id']}"
    assert client.get("/api/v2/alerts", headers=intruder).json()["alerts"] == []
    assert client.patch(path, headers=intruder, json={"enabled": False}).status_code == 404
    assert client.delete(path, headers=intruder).status_code == 404
    assert client.post("/api/v2/alerts", headers=intruder, json=rule(config_id)).status_code == 404
    for method in ("GET", "POST"):
        assert client.request(method, "/api/v2/alerts", json=rule(config_id)).status_code == 401
    assert client.get("/api/v2/alerts/quota").status_code == 401
    assert snapshot(stack) == before

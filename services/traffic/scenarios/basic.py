"""Basic flow: the happy path a new visitor walks, one request after another.

Anonymous session -> who am I -> create a configuration -> list configurations -> its
sentiment -> OHLC and sentiment history of its first ticker -> an alert rule -> list alerts ->
health. Every step must answer 2xx."""

from __future__ import annotations

from services.traffic.client import Answer, TrafficClient
from services.traffic.scenarios.base import Options, ScenarioResult, price_and_history

NAME = "basic"
DESCRIPTION = "session -> configuration -> sentiment, OHLC, history -> alert -> health"


async def run(client: TrafficClient, options: Options, result: ScenarioResult) -> None:
    recorder = client.recorder
    recorder.step("creating an anonymous session")
    bearer = await client.anonymous_session()
    if not result.check("anonymous session", bearer is not None):
        return
    assert bearer is not None
    await client.request("GET", "/api/v2/auth/me", bearer=bearer)

    recorder.step("creating a configuration")
    tickers = list(options.tickers[:5])
    config_id = await client.create_configuration(bearer, "Tech Watchlist", tickers)
    if not result.check("configuration created", config_id is not None):
        return
    assert config_id is not None
    await _check_configuration_listed(client, bearer, config_id, result)

    recorder.step("reading sentiment, prices and history")
    ticker = tickers[0]
    await _read_sentiment_prices_and_history(client, options, bearer, config_id, ticker, result)

    recorder.step("creating an alert rule")
    alert = await _create_alert_rule(client, bearer, config_id, ticker)
    await client.request("GET", "/api/v2/alerts", bearer=bearer)
    health = await client.request("GET", "/health", expect={503})
    if isinstance(health.body, dict):
        result.details["health"] = health.body.get("status")
    result.details["config_id"] = config_id
    result.check("alert created", alert.ok, f"HTTP {alert.status}")
    result.check(
        "every step answered 2xx",
        all(r.ok for r in result.records if r.route != "/health"),
        ", ".join(f"{r.route} {r.status}" for r in result.records if not r.ok),
    )


async def _check_configuration_listed(
    client: TrafficClient, bearer: str, config_id: str, result: ScenarioResult
) -> None:
    listed = await client.request("GET", "/api/v2/configurations", bearer=bearer)
    configs = listed.body.get("configurations", []) if isinstance(listed.body, dict) else []
    result.check(
        "configuration listed",
        any(c.get("config_id") == config_id for c in configs),
        f"{len(configs)} configuration(s)",
    )


async def _read_sentiment_prices_and_history(
    client: TrafficClient,
    options: Options,
    bearer: str,
    config_id: str,
    ticker: str,
    result: ScenarioResult,
) -> None:
    """The configuration's sentiment, then its ticker's candles and sentiment history over the
    first range; what each answered is kept in the result's details."""
    sentiment = await client.request(
        "GET",
        f"/api/v2/configurations/{config_id}/sentiment",
        bearer=bearer,
        route="/api/v2/configurations/{config_id}/sentiment",
    )
    ohlc, history = await price_and_history(
        client, ticker, options.ranges[0], options.history_source, bearer
    )
    if sentiment.ok and isinstance(sentiment.body, dict):
        result.details["source_status"] = sentiment.body.get("source_status")
    if ohlc.ok and isinstance(ohlc.body, dict):
        result.details["candles"] = ohlc.body.get("count")
    if history.ok and isinstance(history.body, dict):
        result.details["history_points"] = history.body.get("count")


async def _create_alert_rule(
    client: TrafficClient, bearer: str, config_id: str, ticker: str
) -> Answer:
    return await client.request(
        "POST",
        "/api/v2/alerts",
        bearer=bearer,
        json_body={
            "config_id": config_id,
            "ticker": ticker,
            "alert_type": "sentiment_threshold",
            "direction": "below",
            "threshold": -0.5,
        },
    )

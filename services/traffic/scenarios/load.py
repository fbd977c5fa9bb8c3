"""Load: `users` concurrent users, each with a session and a configuration of their own,
sending `requests` reads each (their configurations, their sentiment, prices, history, who
am I). Users are isolated: each reads only its own data, and one user's traffic does not
slow the others beyond the server's capacity."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from services.traffic.client import TrafficClient
from services.traffic.scenarios.base import Options, ScenarioResult

NAME = "load"
DESCRIPTION = "concurrent users, each with its own session and configuration"


async def _user(
    client: TrafficClient, n: int, requests: int, tickers: Sequence[str], range_name: str
) -> tuple[int, int]:
    """One user: sign in, create a configuration, then `requests` reads. (ok reads, reads)"""
    bearer = await client.anonymous_session()
    if bearer is None:
        return 0, 0
    ticker = tickers[n % len(tickers)]
    config_id = await client.create_configuration(bearer, f"Load user {n}", [ticker])
    reads = [
        ("/api/v2/configurations", "/api/v2/configurations", None),
        (
            f"/api/v2/configurations/{config_id}/sentiment",
            "/api/v2/configurations/{config_id}/sentiment",
            None,
        ),
        (f"/api/v2/tickers/{ticker}/ohlc", "/api/v2/tickers/{ticker}/ohlc", {"range": range_name}),
        (
            f"/api/v2/tickers/{ticker}/sentiment/history",
            "/api/v2/tickers/{ticker}/sentiment/history",
            {"range": range_name},
        ),
        ("/api/v2/auth/me", "/api/v2/auth/me", None),
    ]
    if config_id is None:
        reads = [r for r in reads if "config_id" not in r[1]]
    ok = 0
    for i in range(requests):
        path, route, params = reads[i % len(reads)]
        answer = await client.request("GET", path, bearer=bearer, params=params, route=route)
        ok += answer.ok
    return ok, requests


async def run(client: TrafficClient, options: Options, result: ScenarioResult) -> None:
    users, per_user = options.users, options.requests
    client.recorder.step(f"{users} users x {per_user} requests", total=users * (2 + per_user))
    outcomes = await asyncio.gather(
        *(_user(client, n, per_user, options.tickers, options.ranges[0]) for n in range(users))
    )
    summary = result.summary
    result.details.update(
        {
            "users": users,
            "requests_per_user": per_user,
            "users_completed": sum(1 for ok, sent in outcomes if sent == per_user),
            "requests_per_s": round(summary.rate_per_s, 2),
            "success_pct": round(summary.success_pct, 2),
        }
    )
    result.check(
        "every user signed in and sent its requests",
        all(sent == per_user for _, sent in outcomes),
        f"{sum(1 for _, sent in outcomes if sent == per_user)} of {users} users",
    )

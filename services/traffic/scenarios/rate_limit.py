"""Rate limit: a burst of `burst` requests (50 by default) sent at once from one session. With
the API's default limit (40 per 10 s per session) the first 40 are answered and the rest get
429 `RATE_LIMITED` with `Retry-After`; waiting that long, one more request is answered."""

from __future__ import annotations

import asyncio

from services.traffic.client import TrafficClient
from services.traffic.scenarios.base import Options, ScenarioResult

NAME = "rate-limit"
DESCRIPTION = "a burst from one session meets 429 with Retry-After"
BURST_ROUTE = "/api/v2/auth/me"
# `Retry-After` is at most the window (10 s by default); never wait longer than this.
MAX_RETRY_WAIT_S = 30


async def run(client: TrafficClient, options: Options, result: ScenarioResult) -> None:
    recorder = client.recorder
    recorder.step(f"a burst of {options.burst} requests", total=1 + options.burst + 1)
    bearer = await client.anonymous_session()
    if not result.check("anonymous session", bearer is not None):
        return
    answers = await asyncio.gather(
        *(client.request("GET", BURST_ROUTE, bearer=bearer) for _ in range(options.burst))
    )
    limited = [a for a in answers if a.status == 429]
    admitted = sum(a.ok for a in answers)
    retry_after = sorted({int(a.headers.get("retry-after", "0")) for a in limited})
    result.details.update(
        {
            "burst": options.burst,
            "admitted": admitted,
            "rate_limited": len(limited),
            "retry_after_s": retry_after,
            "codes": sorted({a.error_code for a in limited if a.error_code}),
        }
    )
    result.check(
        "the burst met 429s",
        bool(limited),
        f"{admitted} answered, {len(limited)} rate limited",
    )
    result.check(
        "every 429 says RATE_LIMITED with Retry-After",
        all(
            a.error_code == "RATE_LIMITED" and int(a.headers.get("retry-after", "0")) > 0
            for a in limited
        ),
    )
    if limited and options.verify_recovery:
        wait = min(max(retry_after), MAX_RETRY_WAIT_S)
        recorder.step(f"waiting Retry-After ({wait} s)")
        await asyncio.sleep(wait)
        after = await client.request("GET", BURST_ROUTE, bearer=bearer)
        result.details["after_retry_after"] = after.status
        result.check("admitted again after Retry-After", after.ok, f"HTTP {after.status}")

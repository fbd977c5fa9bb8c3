"""The daily panel of a running system, read through its public API (httpx).

`GET /api/v2/tickers/{t}/ohlc?range=` (daily candles) and
`GET /api/v2/tickers/{t}/sentiment/history?range=&source=` per ticker; ranges of a month or
more give daily sentiment points (a week gives hourly ones, pooled into days here). Prices the
API has not cached yet are fetched for a caller with a session only, so the loader reads with
one (an anonymous session, unless a bearer is given).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx
import pandas as pd

from services.analytics.frames import daily_panel, prices_frame, sentiment_frame, stack_panels


class AnalyticsLoadError(RuntimeError):
    """The API refused or failed a read the panel needs."""


def panel_from_answers(
    ticker: str, ohlc: Mapping[str, Any], history: Mapping[str, Any]
) -> pd.DataFrame:
    """One ticker's panel from the two API answers (what the workbench's store calls too)."""
    return daily_panel(ticker, prices_frame(ohlc), sentiment_frame(history))


def fetch_panel(client: httpx.Client, ticker: str, range_name: str, source: str) -> pd.DataFrame:
    path = f"/api/v2/tickers/{quote(ticker, safe='')}"
    ohlc = _get(client, f"{path}/ohlc", {"range": range_name, "resolution": "D"})
    history = _get(client, f"{path}/sentiment/history", {"range": range_name, "source": source})
    return panel_from_answers(ticker, ohlc, history)


def load_panel(
    api_url: str,
    tickers: Sequence[str],
    range_name: str = "6M",
    source: str = "aggregated",
    *,
    timeout_s: float = 30.0,
    bearer: str | None = None,
) -> pd.DataFrame:
    """Every ticker's panel, stacked (ticker, date order)."""
    with httpx.Client(base_url=api_url.rstrip("/"), timeout=timeout_s) as client:
        token = bearer or _anonymous_session(client)
        client.headers["Authorization"] = f"Bearer {token}"
        return stack_panels([fetch_panel(client, t, range_name, source) for t in tickers])


def _anonymous_session(client: httpx.Client) -> str:
    try:
        response = client.post("/api/v2/auth/anonymous")
    except httpx.HTTPError as error:
        raise AnalyticsLoadError(f"POST /api/v2/auth/anonymous failed: {error}") from error
    if response.status_code != 201:
        raise AnalyticsLoadError(
            f"POST /api/v2/auth/anonymous answered {response.status_code}: {response.text[:200]}"
        )
    return str(response.json()["token"])


def _get(client: httpx.Client, path: str, params: Mapping[str, str]) -> dict[str, Any]:
    try:
        response = client.get(path, params=dict(params))
    except httpx.HTTPError as error:
        raise AnalyticsLoadError(f"GET {path} failed: {error}") from error
    if response.status_code != 200:
        raise AnalyticsLoadError(
            f"GET {path} answered {response.status_code}: {response.text[:200]}"
        )
    body = response.json()
    if not isinstance(body, dict):
        raise AnalyticsLoadError(f"GET {path} did not answer a JSON object")
    return body

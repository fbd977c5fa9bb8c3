"""The providers' plans over HTTP: the control routes (`/_emulator/plan`, `/_emulator/usage`,
`/_emulator/nulls`, `/_emulator/senders`) and the plans' answers as a client receives them,
status, body and content type."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from services.local.emulators.sendgrid import SendGridEmulator
from services.local.emulators.tiingo import TiingoEmulator, TiingoLimits
from services.local.emulators.world import NewsWorld
from tests.clock import START, Clock

pytestmark = pytest.mark.integration


@pytest.fixture
def tiingo(news_world: NewsWorld) -> Iterator[TiingoEmulator]:
    emulator = TiingoEmulator(
        news_world,
        "t-key",
        free_limits=TiingoLimits(requests_per_hour=3, requests_per_day=100, symbols_per_month=2),
        symbol_cap_body="text",
    ).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def sendgrid(clock: Clock) -> Iterator[SendGridEmulator]:
    emulator = SendGridEmulator("sg-key", clock=clock).start()
    yield emulator
    emulator.stop()


def test_tiingo_plan_switched_over_http_answers_like_tiingo(tiingo) -> None:
    root, auth = tiingo.root_url, {"Authorization": "Token t-key"}
    assert httpx.get(f"{root}/_emulator/plan").json()["plan"] == "paid"
    assert httpx.get(f"{root}/tiingo/news", params={"tickers": "AAPL"}, headers=auth).is_success

    switched = httpx.post(f"{root}/_emulator/plan", json={"plan": "free"})
    assert switched.status_code == 200
    assert switched.json()["limits"]["requests_per_hour"]["limit"] == 3

    news = httpx.get(f"{root}/tiingo/news", params={"tickers": "AAPL"}, headers=auth)
    assert news.status_code == 403
    assert news.headers["content-type"] == "application/json"
    assert news.json() == {"detail": "You do not have permission to access the News API"}

    # The hour holds 3: the paid news call, the refused one, and one more.
    assert httpx.get(f"{root}/tiingo/daily/AAPL/prices", headers=auth).status_code == 200
    over = httpx.get(f"{root}/tiingo/daily/AAPL/prices", headers=auth)
    assert over.status_code == 429
    assert over.json()["detail"].startswith(
        "Error: You have run over your hourly request allocation."
    )
    assert "retry-after" not in over.headers

    usage = httpx.get(f"{root}/_emulator/usage").json()
    assert usage["plan"] == "free" and usage["requests"] == 4
    hour = usage["limits"]["requests_per_hour"]
    assert (hour["limit"], hour["used"], hour["refused"], hour["requests"]) == (3, 3, 1, 4)
    assert hour["period_start"] == "2026-11-24T12:00:00.000000Z"
    assert hour["resets_at"] == "2026-11-24T13:00:00.000000Z"
    assert httpx.post(f"{root}/_emulator/plan", json={"plan": "gold"}).status_code == 400


def test_tiingo_symbol_cap_is_a_200_in_plain_text(tiingo, clock) -> None:
    root, params = tiingo.root_url, {"token": "t-key"}
    tiingo.plan = "free"
    for ticker in ("AAPL", "MSFT"):
        assert httpx.get(f"{root}/iex/{ticker}/prices", params=params).status_code == 200

    over = httpx.get(f"{root}/iex/JPM/prices", params=params)

    assert over.status_code == 200
    assert over.headers["content-type"] == "text/plain; charset=utf-8"
    assert over.text.startswith("You have run over your 2 symbol look up for this month.")
    clock.now = datetime(2026, 12, 1, tzinfo=UTC)
    assert httpx.get(f"{root}/iex/JPM/prices", params=params).json() == []  # a new month

    zeroed = httpx.delete(f"{root}/_emulator/usage").json()
    assert zeroed["requests"] == 0
    assert zeroed["limits"]["symbols_per_month"]["used"] == 0


def test_finnhub_free_plan_limits_and_nulls_over_http(finnhub, clock) -> None:
    root, token = finnhub.root_url, {"token": "f-key"}
    httpx.post(f"{root}/_emulator/plan", json={"plan": "free"})

    sentiment = httpx.get(f"{finnhub.url}/news-sentiment", params={"symbol": "AAPL", **token})
    assert sentiment.status_code == 403
    assert sentiment.headers["content-type"] == "application/json"
    assert sentiment.json() == {"error": "You don't have access to this resource."}

    day = (START - timedelta(days=1)).date().isoformat()
    news = {"symbol": "AAPL", "from": day, "to": day, **token}
    with httpx.Client() as client:
        # The 403 was an answer: it spent one of the second's 30 (the clock stands still).
        statuses = [client.get(f"{finnhub.url}/company-news", params=news) for _ in range(29)]
        over = client.get(f"{finnhub.url}/company-news", params=news)
    assert all(r.status_code == 200 for r in statuses)
    assert over.status_code == 429
    assert over.json() == {"error": "API limit reached. Please try again later. Remaining Limit: 0"}
    limits = httpx.get(f"{root}/_emulator/usage").json()["limits"]
    assert limits["calls_per_second"]["refused"] == 1
    assert (limits["calls_per_minute"]["used"], limits["calls_per_minute"]["requests"]) == (30, 31)

    httpx.post(f"{root}/_emulator/plan", json={"plan": "paid"})
    assert httpx.post(f"{root}/_emulator/nulls", json={"below": 10_000}).json() == {"below": 10_000}
    thin = httpx.get(f"{finnhub.url}/news-sentiment", params={"symbol": "AAPL", **token}).json()
    assert thin["sentiment"] is None and thin["companyNewsScore"] is None
    assert thin["buzz"]["buzz"] is None and isinstance(thin["buzz"]["articlesInLastWeek"], int)
    httpx.delete(f"{root}/_emulator/nulls")
    scored = httpx.get(f"{finnhub.url}/news-sentiment", params={"symbol": "AAPL", **token}).json()
    assert scored["sentiment"] is not None


def test_sendgrid_senders_and_credits_over_http(sendgrid, clock) -> None:
    auth = {"Authorization": "Bearer sg-key"}
    body = {
        "personalizations": [{"to": [{"email": "reader@example.com"}]}],
        "from": {"email": "alerts@elsewhere.test"},
        "subject": "Hello",
        "content": [{"type": "text/plain", "value": "body"}],
    }
    with httpx.Client(base_url=sendgrid.url) as client:
        verified = client.post("/_emulator/senders", json={"verified": ["app.test"]})
        assert verified.json() == {"verified": ["app.test"]}
        refused = client.post("/v3/mail/send", json=body, headers=auth)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/json"
        (problem,) = refused.json()["errors"]
        assert problem["field"] == "from" and problem["help"] is None
        assert problem["message"].startswith(
            "The from address does not match a verified Sender Identity."
        )

        client.delete("/_emulator/senders")
        client.post("/_emulator/plan", json={"plan": "free"})
        assert client.get("/_emulator/plan").json()["limits"] == {
            "emails_per_day": {"limit": 100, "unit": "request", "period": "day"}
        }
        for _ in range(99):  # the 403 above was the day's first
            assert client.post("/v3/mail/send", json=body, headers=auth).status_code == 202
        over = client.post("/v3/mail/send", json=body, headers=auth)
        assert over.status_code == 401
        assert over.json() == {
            "errors": [{"message": "Maximum credits exceeded", "field": None, "help": None}]
        }
        clock.now = START + timedelta(days=1)
        assert client.post("/v3/mail/send", json=body, headers=auth).status_code == 202

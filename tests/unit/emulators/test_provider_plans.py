"""The provider emulators' free and paid plans, without sockets: each plan's answer per
endpoint, each limit in the provider's own words and its reset at the period's boundary
(driven by the emulator's clock), the usage counts, Finnhub's nulls and SendGrid's sender
identities."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.local.emulators.base import (
    Allowance,
    HttpEmulator,
    PlanMeter,
    Request,
    Response,
    period_bounds,
)
from services.local.emulators.finnhub import (
    FINNHUB_FREE,
    FinnhubEmulator,
    FinnhubLimits,
)
from services.local.emulators.sendgrid import SENDGRID_FREE, SendGridEmulator
from services.local.emulators.tiingo import TIINGO_FREE, TiingoEmulator, TiingoLimits
from services.local.emulators.world import NewsWorld
from tests.clock import Clock

pytestmark = pytest.mark.unit

# A Tuesday, on the hour; far from a month's end.
START = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
TIINGO_KEY, FINNHUB_KEY, SENDGRID_KEY = "t-key", "f-key", "sg-key"
PRICING = "Please upgrade at https://api.tiingo.com/pricing to have your limits increased."
FINNHUB_LIMIT = {"error": "API limit reached. Please try again later. Remaining Limit: 0"}
SENDER_MESSAGE = (
    "The from address does not match a verified Sender Identity. Mail cannot be sent until "
    "this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/"
    "sender-identity/ to see the Sender Identity requirements"
)


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


def request(
    method: str, path: str, query: dict[str, str] | None = None, body: Any = None
) -> Request:
    return Request(method, path, query or {}, {}, body)


def tiingo(emulator: TiingoEmulator, path: str, **query: str) -> Response:
    return emulator.handle(request("GET", path, {"token": TIINGO_KEY, **query}))


def daily(emulator: TiingoEmulator, ticker: str = "AAPL") -> Response:
    return tiingo(emulator, f"/tiingo/daily/{ticker}/prices")


def finnhub(emulator: FinnhubEmulator, path: str, **query: str) -> Response:
    return emulator.handle(request("GET", f"/api/v1{path}", {"token": FINNHUB_KEY, **query}))


def company_news(emulator: FinnhubEmulator, symbol: str = "AAPL") -> Response:
    day = START.date().isoformat()
    return finnhub(emulator, "/company-news", symbol=symbol, **{"from": day, "to": day})


def control(emulator: HttpEmulator, method: str, path: str, body: Any = None) -> Response:
    return emulator.handle(request(method, f"/_emulator/{path}", body=body))


def usage(emulator: HttpEmulator, limit: str) -> dict[str, Any]:
    counts: dict[str, Any] = control(emulator, "GET", "usage").body["limits"][limit]
    return counts


def mail(sender: str = "no-reply@app.test") -> dict[str, Any]:
    return {
        "personalizations": [{"to": [{"email": "reader@example.com"}]}],
        "from": {"email": sender},
        "subject": "Hello",
        "content": [{"type": "text/plain", "value": "body"}],
    }


def send(emulator: SendGridEmulator, body: Any, key: str = SENDGRID_KEY) -> Response:
    headers = {"authorization": f"Bearer {key}"}
    return emulator.handle(Request("POST", "/v3/mail/send", {}, headers, body))


# --- periods and the meter ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "start", "end"),
    [
        ("second", "2026-12-31T23:59:59", "2027-01-01T00:00:00"),
        ("minute", "2026-12-31T23:59:00", "2027-01-01T00:00:00"),
        ("hour", "2026-12-31T23:00:00", "2027-01-01T00:00:00"),
        ("day", "2026-12-31T00:00:00", "2027-01-01T00:00:00"),
        ("month", "2026-12-01T00:00:00", "2027-01-01T00:00:00"),
    ],
)
def test_periods_are_calendar_periods_in_utc(kind: Any, start: str, end: str) -> None:
    moment = datetime(2026, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)
    assert period_bounds(kind, moment) == (
        datetime.fromisoformat(start).replace(tzinfo=UTC),
        datetime.fromisoformat(end).replace(tzinfo=UTC),
    )


def test_a_meter_refuses_on_the_first_spent_limit_and_a_refusal_uses_nothing(clock) -> None:
    meter = PlanMeter(
        clock,
        {"free": (Allowance("per_second", "second", 2), Allowance("per_minute", "minute", 3))},
        "free",
    )
    assert [meter.charge() for _ in range(2)] == [None, None]
    assert meter.charge() == Allowance("per_second", "second", 2)
    clock.advance(seconds=1)
    assert meter.charge() is None
    assert meter.charge() == Allowance("per_minute", "minute", 3)
    limits = meter.usage()["limits"]
    assert limits["per_minute"] == {
        "limit": 3,
        "used": 3,
        "refused": 1,
        "requests": 5,
        "unit": "request",
        "period": "minute",
        "period_start": "2026-11-24T00:00:00.000000Z",
        "resets_at": "2026-11-24T00:01:00.000000Z",
    }
    assert (limits["per_second"]["used"], limits["per_second"]["refused"]) == (1, 0)
    assert meter.seconds_to_reset(Allowance("per_minute", "minute", 3)) == 59.0
    with pytest.raises(ValueError, match="plan must be one of"):
        meter.plan = "gold"  # type: ignore[assignment]


# --- Tiingo ---------------------------------------------------------------------------------


def test_tiingo_paid_plan_serves_every_endpoint(news_world) -> None:
    emulator = TiingoEmulator(news_world, TIINGO_KEY)

    assert emulator.plan == "paid"
    assert tiingo(emulator, "/tiingo/news", tickers="AAPL", startDate="2026-11-17").status == 200
    assert daily(emulator).status == 200
    assert tiingo(emulator, "/iex/MSFT/prices").status == 200


def test_tiingo_free_plan_refuses_news_like_tiingo_and_serves_prices(news_world) -> None:
    emulator = TiingoEmulator(news_world, TIINGO_KEY, plan="free")

    news = tiingo(emulator, "/tiingo/news", tickers="AAPL")
    assert (news.status, news.body) == (
        403,
        {"detail": "You do not have permission to access the News API"},
    )
    assert daily(emulator).status == 200 and isinstance(daily(emulator).body, list)
    assert tiingo(emulator, "/iex/MSFT/prices").status == 200
    # The 403 was an answer (it spent a request), but nothing was looked up.
    assert usage(emulator, "requests_per_hour")["used"] == 4
    assert usage(emulator, "symbols_per_month")["used"] == 2


def test_tiingo_free_hourly_allocation_then_the_next_hour(news_world, clock) -> None:
    emulator = TiingoEmulator(news_world, TIINGO_KEY, plan="free")
    clock.advance(minutes=10)

    assert all(daily(emulator).status == 200 for _ in range(TIINGO_FREE.requests_per_hour))
    over = daily(emulator)

    assert over.status == 429
    assert over.body == {
        "detail": f"Error: You have run over your hourly request allocation. {PRICING}"
    }
    assert over.headers == {}
    hour = usage(emulator, "requests_per_hour")
    assert (hour["limit"], hour["used"], hour["refused"], hour["requests"]) == (50, 50, 1, 51)
    assert (hour["period_start"], hour["resets_at"]) == (
        "2026-11-24T00:00:00.000000Z",
        "2026-11-24T01:00:00.000000Z",
    )
    # The refused request spent nothing of the day's allocation either.
    assert usage(emulator, "requests_per_day")["used"] == 50

    clock.advance(minutes=49, seconds=59)
    assert daily(emulator).status == 429
    clock.advance(seconds=1)
    assert daily(emulator).status == 200
    hour = usage(emulator, "requests_per_hour")
    assert (hour["used"], hour["refused"], hour["period_start"]) == (
        1,
        0,
        "2026-11-24T01:00:00.000000Z",
    )


def test_tiingo_free_daily_allocation_then_the_next_day(news_world, clock) -> None:
    emulator = TiingoEmulator(news_world, TIINGO_KEY, plan="free")
    per_hour, per_day = TIINGO_FREE.requests_per_hour, TIINGO_FREE.requests_per_day

    for _ in range(per_day // per_hour):
        assert all(daily(emulator).status == 200 for _ in range(per_hour))
        clock.advance(hours=1)
    over = daily(emulator)

    assert over.status == 429
    assert over.body == {
        "detail": f"Error: You have run over your daily request allocation. {PRICING}"
    }
    day = usage(emulator, "requests_per_day")
    assert (day["limit"], day["used"], day["refused"]) == (1_000, 1_000, 1)
    assert usage(emulator, "requests_per_hour")["used"] == 0

    clock.now = START + timedelta(days=1)
    assert daily(emulator).status == 200
    assert usage(emulator, "requests_per_day")["period_start"] == "2026-11-25T00:00:00.000000Z"


def test_tiingo_free_symbol_cap_across_news_and_prices_then_the_next_month(
    news_world, clock
) -> None:
    emulator = TiingoEmulator(news_world, TIINGO_KEY, plan="free")
    clock.now = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    symbols = [f"S{n:03d}" for n in range(TIINGO_FREE.symbols_per_month)]
    per_hour = TIINGO_FREE.requests_per_hour

    for first in range(0, len(symbols), per_hour):
        # Unknown tickers: each a 404, and still a symbol looked up.
        assert all(daily(emulator, s).status == 404 for s in symbols[first : first + per_hour])
        clock.advance(hours=1)
    assert usage(emulator, "symbols_per_month")["used"] == 500

    over = daily(emulator, "AAPL")
    assert over.status == 200
    assert over.body == {
        "detail": f"You have run over your 500 symbol look up for this month. {PRICING}"
    }
    # A symbol already looked up this month still answers.
    assert daily(emulator, "S000").status == 404
    symbols_used = usage(emulator, "symbols_per_month")
    assert (symbols_used["used"], symbols_used["refused"]) == (500, 1)

    clock.now = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert daily(emulator, "AAPL").status == 200
    assert usage(emulator, "symbols_per_month")["used"] == 1


def test_tiingo_counts_news_tickers_as_symbols_and_can_answer_the_cap_in_plain_text(
    news_world,
) -> None:
    emulator = TiingoEmulator(
        news_world,
        TIINGO_KEY,
        paid_limits=TiingoLimits(requests_per_hour=0, requests_per_day=0, symbols_per_month=2),
        symbol_cap_body="text",
    )

    assert tiingo(emulator, "/tiingo/news", tickers="aapl,MSFT").status == 200
    assert tiingo(emulator, "/tiingo/news", tickers="AAPL").status == 200
    over = tiingo(emulator, "/iex/JPM/prices")

    assert over.status == 200
    assert over.body == (
        f"You have run over your 2 symbol look up for this month. {PRICING}".encode()
    )
    assert over.headers == {"Content-Type": "text/plain; charset=utf-8"}
    # A request naming a known and a new symbol is refused whole.
    assert tiingo(emulator, "/tiingo/news", tickers="AAPL,JPM").body == over.body
    assert usage(emulator, "symbols_per_month")["refused"] == 2
    assert usage(emulator, "requests_per_hour")["limit"] is None
    with pytest.raises(ValueError, match="symbol_cap_body"):
        TiingoEmulator(news_world, TIINGO_KEY, symbol_cap_body="html")  # type: ignore[arg-type]


def test_tiingo_free_news_is_refused_as_premium_even_past_the_symbol_cap(news_world) -> None:
    emulator = TiingoEmulator(
        news_world,
        TIINGO_KEY,
        plan="free",
        free_limits=TiingoLimits(requests_per_hour=50, requests_per_day=1_000, symbols_per_month=1),
    )
    assert daily(emulator, "AAPL").status == 200

    assert tiingo(emulator, "/tiingo/news", tickers="MSFT").status == 403
    assert daily(emulator, "MSFT").status == 200 and daily(emulator, "MSFT").body == {
        "detail": f"You have run over your 1 symbol look up for this month. {PRICING}"
    }


def test_tiingo_plan_switches_at_run_time_and_keeps_its_counts(news_world) -> None:
    emulator = TiingoEmulator(news_world, TIINGO_KEY)
    assert tiingo(emulator, "/tiingo/news", tickers="AAPL").status == 200

    switched = control(emulator, "POST", "plan", {"plan": "free"})

    assert switched.status == 200
    assert switched.body == {
        "plan": "free",
        "limits": {
            "requests_per_hour": {"limit": 50, "unit": "request", "period": "hour"},
            "requests_per_day": {"limit": 1_000, "unit": "request", "period": "day"},
            "symbols_per_month": {"limit": 500, "unit": "symbol", "period": "month"},
        },
        "premium": ["/tiingo/news"],
        "remaining_s": 0.0,
        "not_in_plan": 0,
    }
    assert control(emulator, "GET", "plan").body == switched.body
    assert tiingo(emulator, "/tiingo/news", tickers="AAPL").status == 403
    assert usage(emulator, "requests_per_hour")["used"] == 2
    assert control(emulator, "GET", "plan").body["not_in_plan"] == 1

    assert control(emulator, "POST", "plan", {"plan": "gold"}).status == 400
    assert control(emulator, "POST", "plan", ["free"]).status == 400
    assert control(emulator, "PUT", "plan").status == 405
    emulator.plan = "paid"
    assert control(emulator, "GET", "plan").body["limits"]["symbols_per_month"]["limit"] is None
    assert tiingo(emulator, "/tiingo/news", tickers="AAPL").status == 200


def test_a_timed_plan_ends_by_itself_or_when_deleted_and_the_plan_set_for_good_returns(
    news_world,
) -> None:
    emulator = FinnhubEmulator(news_world, FINNHUB_KEY)
    # Given a free plan for a moment (as the `free_plan_keys` chaos scenario switches it)
    timed = control(emulator, "POST", "plan", {"plan": "free", "duration_s": 0.3})
    assert timed.status == 200 and timed.body["plan"] == "free"
    assert 0 < timed.body["remaining_s"] <= 0.3
    assert finnhub(emulator, "/news-sentiment", symbol="AAPL").status == 403
    # When it has passed, the plan the emulator was started with is back, with no call
    time.sleep(0.35)
    after = control(emulator, "GET", "plan").body
    assert (after["plan"], after["remaining_s"], after["not_in_plan"]) == ("paid", 0.0, 1)
    assert finnhub(emulator, "/news-sentiment", symbol="AAPL").status == 200
    # And a DELETE ends a timed plan at once; a plan set without a duration ends it too
    control(emulator, "POST", "plan", {"plan": "free", "duration_s": 60})
    assert control(emulator, "DELETE", "plan").body["plan"] == "paid"
    control(emulator, "POST", "plan", {"plan": "free", "duration_s": 60})
    control(emulator, "POST", "plan", {"plan": "free"})
    assert control(emulator, "DELETE", "plan").body["plan"] == "free"
    for duration in (0, -1, 3601, "60", True):
        refused = control(emulator, "POST", "plan", {"plan": "paid", "duration_s": duration})
        assert refused.status == 400, duration


def test_usage_counts_authorized_provider_requests_only_and_can_be_zeroed(news_world) -> None:
    emulator = TiingoEmulator(news_world, TIINGO_KEY, plan="free")
    daily(emulator)
    emulator.handle(request("GET", "/tiingo/daily/AAPL/prices", {"token": "wrong"}))
    control(emulator, "GET", "health")
    control(emulator, "GET", "plan")

    counted = control(emulator, "GET", "usage").body
    assert (counted["plan"], counted["requests"]) == ("free", 1)
    assert counted["limits"]["requests_per_hour"]["requests"] == 1

    zeroed = control(emulator, "DELETE", "usage").body
    assert zeroed["requests"] == 0
    assert all(limit["used"] == 0 for limit in zeroed["limits"].values())


# --- Finnhub --------------------------------------------------------------------------------


def test_finnhub_free_plan_refuses_the_premium_endpoints_like_finnhub(news_world) -> None:
    emulator = FinnhubEmulator(news_world, FINNHUB_KEY, plan="free")
    no_access = {"error": "You don't have access to this resource."}

    assert company_news(emulator).status == 200
    sentiment = finnhub(emulator, "/news-sentiment", symbol="AAPL")
    candles = finnhub(emulator, "/stock/candle", symbol="AAPL", resolution="D")
    assert (sentiment.status, sentiment.body) == (403, no_access)
    assert (candles.status, candles.body) == (403, no_access)
    assert control(emulator, "GET", "plan").body["premium"] == [
        "/api/v1/news-sentiment",
        "/api/v1/stock/candle",
    ]


def test_finnhub_paid_plan_serves_every_endpoint(news_world) -> None:
    emulator = FinnhubEmulator(news_world, FINNHUB_KEY)
    start, end = (str(int((START - timedelta(days=5)).timestamp())), str(int(START.timestamp())))

    assert company_news(emulator).status == 200
    assert finnhub(emulator, "/news-sentiment", symbol="AAPL").body["sentiment"] is not None
    candles = finnhub(emulator, "/stock/candle", symbol="AAPL", resolution="D", to=end)
    assert candles.status == 422  # `from` missing: the endpoint itself answered
    candles = finnhub(
        emulator, "/stock/candle", symbol="AAPL", resolution="D", to=end, **{"from": start}
    )
    assert candles.status == 200 and candles.body["s"] == "ok"


def test_finnhub_free_per_second_limit_then_the_next_second(news_world, clock) -> None:
    emulator = FinnhubEmulator(news_world, FINNHUB_KEY, plan="free")

    assert all(company_news(emulator).status == 200 for _ in range(30))
    over = company_news(emulator)

    assert (over.status, over.body, over.headers) == (429, FINNHUB_LIMIT, {})
    second = usage(emulator, "calls_per_second")
    assert (second["limit"], second["used"], second["refused"]) == (30, 30, 1)
    clock.advance(seconds=1)
    assert company_news(emulator).status == 200


def test_finnhub_free_per_minute_limit_then_the_next_minute(news_world, clock) -> None:
    emulator = FinnhubEmulator(news_world, FINNHUB_KEY, plan="free")

    for _ in range(FINNHUB_FREE.calls_per_minute // 20):
        assert all(company_news(emulator).status == 200 for _ in range(20))
        clock.advance(seconds=1)
    over = company_news(emulator)

    assert (over.status, over.body) == (429, FINNHUB_LIMIT)
    minute = usage(emulator, "calls_per_minute")
    assert (minute["used"], minute["refused"], minute["requests"]) == (60, 1, 61)
    assert usage(emulator, "calls_per_second")["refused"] == 0
    clock.now = START + timedelta(minutes=1)
    assert company_news(emulator).status == 200
    assert usage(emulator, "calls_per_minute")["period_start"] == "2026-11-24T00:01:00.000000Z"


def test_finnhub_paid_limits_are_configurable(news_world) -> None:
    emulator = FinnhubEmulator(
        news_world, FINNHUB_KEY, paid_limits=FinnhubLimits(calls_per_minute=2, calls_per_second=0)
    )
    assert [company_news(emulator).status for _ in range(3)] == [200, 200, 429]


@pytest.fixture
def quiet_world(clock: Clock) -> NewsWorld:
    """No regular news: every story in it is injected."""
    return NewsWorld(seed=11, clock=clock, stories_per_day=0.0)


def test_finnhub_thin_coverage_answers_finnhubs_nulls(quiet_world) -> None:
    quiet_world.inject("MSFT", 3)
    emulator = FinnhubEmulator(quiet_world, FINNHUB_KEY, thin_coverage=1)

    empty = finnhub(emulator, "/news-sentiment", symbol="AAPL").body
    assert empty == {
        "buzz": {"articlesInLastWeek": 0, "buzz": None, "weeklyAverage": 0.0},
        "companyNewsScore": None,
        "sectorAverageBullishPercent": 0.5,
        "sectorAverageNewsScore": 0.5,
        "sentiment": None,
        "symbol": "AAPL",
    }
    scored = finnhub(emulator, "/news-sentiment", symbol="MSFT").body
    assert scored["buzz"]["articlesInLastWeek"] == 3
    assert scored["companyNewsScore"] is not None
    assert set(scored["sentiment"]) == {"bearishPercent", "bullishPercent"}

    assert control(emulator, "POST", "nulls", {"below": 4}).body == {"below": 4}
    thin = finnhub(emulator, "/news-sentiment", symbol="MSFT").body
    assert (thin["buzz"]["articlesInLastWeek"], thin["buzz"]["buzz"], thin["sentiment"]) == (
        3,
        None,
        None,
    )
    assert control(emulator, "GET", "nulls").body == {"below": 4}
    assert control(emulator, "DELETE", "nulls").body == {"below": 0}
    assert finnhub(emulator, "/news-sentiment", symbol="AAPL").body["sentiment"] == {
        "bearishPercent": 0.0,
        "bullishPercent": 0.0,
    }
    for bad in ({"below": -1}, {"below": "3"}, {"below": True}, None):
        assert control(emulator, "POST", "nulls", bad).status == 400
    with pytest.raises(ValueError, match="thin_coverage"):
        FinnhubEmulator(quiet_world, FINNHUB_KEY, thin_coverage=-1)


def test_finnhub_nulls_are_off_by_default(quiet_world) -> None:
    body = finnhub(FinnhubEmulator(quiet_world, FINNHUB_KEY), "/news-sentiment", symbol="AAPL")
    assert body.body["companyNewsScore"] == 0.0 and body.body["buzz"]["buzz"] == 0.0


# --- SendGrid -------------------------------------------------------------------------------


def test_sendgrid_free_plan_sends_100_a_day_then_maximum_credits_exceeded(clock) -> None:
    emulator = SendGridEmulator(SENDGRID_KEY, clock=clock, plan="free")
    clock.advance(hours=23)

    assert all(send(emulator, mail()).status == 202 for _ in range(SENDGRID_FREE.emails_per_day))
    over = send(emulator, mail())

    assert over.status == 401
    assert over.body == {
        "errors": [{"message": "Maximum credits exceeded", "field": None, "help": None}]
    }
    # Checked before the body is: an invalid one gets the same answer.
    assert send(emulator, {"subject": "no recipients"}).status == 401
    assert len(emulator.outbox()) == 100
    day = usage(emulator, "emails_per_day")
    assert (day["limit"], day["used"], day["refused"], day["requests"]) == (100, 100, 2, 102)

    clock.advance(hours=1)
    assert send(emulator, mail()).status == 202
    assert usage(emulator, "emails_per_day")["period_start"] == "2026-11-25T00:00:00.000000Z"


def test_sendgrid_paid_plan_has_no_daily_cap_and_a_bad_key_is_not_counted(clock) -> None:
    emulator = SendGridEmulator(SENDGRID_KEY, clock=clock)

    assert all(send(emulator, mail()).status == 202 for _ in range(150))
    assert send(emulator, mail(), key="wrong").status == 401
    day = usage(emulator, "emails_per_day")
    assert (day["limit"], day["used"], day["requests"]) == (None, 150, 150)


def test_sendgrid_refuses_an_unverified_sender_like_sendgrid(clock) -> None:
    emulator = SendGridEmulator(
        SENDGRID_KEY, clock=clock, verified_senders={"@App.Test", "alerts@other.test"}
    )

    assert send(emulator, mail("no-reply@app.test")).status == 202
    assert send(emulator, mail("Alerts@Other.Test")).status == 202
    refused = send(emulator, mail("someone@other.test"))

    assert refused.status == 403
    assert refused.body == {"errors": [{"message": SENDER_MESSAGE, "field": "from", "help": None}]}
    assert [m.from_email for m in emulator.outbox()] == ["no-reply@app.test", "Alerts@Other.Test"]
    # The body is validated first: a bad body is a 400 whoever sends it.
    assert send(emulator, {**mail("someone@other.test"), "subject": ""}).status == 400


def test_sendgrid_sender_identities_switch_at_run_time(clock) -> None:
    emulator = SendGridEmulator(SENDGRID_KEY, clock=clock)
    assert control(emulator, "GET", "senders").body == {"verified": None}

    switched = control(emulator, "POST", "senders", {"verified": ["no-reply@app.test"]})
    assert switched.body == {"verified": ["no-reply@app.test"]}
    assert send(emulator, mail("other@app.test")).status == 403
    assert send(emulator, mail("no-reply@app.test")).status == 202

    assert control(emulator, "POST", "senders", {"verified": "app.test"}).status == 400
    assert control(emulator, "DELETE", "senders").body == {"verified": None}
    assert send(emulator, mail("other@app.test")).status == 202


def test_emulators_without_plans_have_no_plan_routes() -> None:
    from services.local.emulators.oidc import OidcEmulator

    emulator = OidcEmulator("client", "secret", redirect_uris=("http://127.0.0.1/app",))
    assert emulator.plan is None
    assert control(emulator, "GET", "plan").status == 404
    assert control(emulator, "GET", "usage").status == 404
    with pytest.raises(ValueError, match="plays no plans"):
        emulator.plan = "free"

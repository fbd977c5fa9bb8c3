"""The API client: timing of the workbench's own calls, and errors read as a person wants."""

from __future__ import annotations

import pytest

from tests.unit.workbench.loop import run
from tests.unit.workbench.memory_api import OIDC, SENDGRID
from workbench.client import ApiClient, ApiResult, problem_of
from workbench.latency import LatencyWindow

pytestmark = pytest.mark.unit


def test_latency_window_reports_mean_and_nearest_rank_p99() -> None:
    # Given 100 calls of 1..100 ms, When summarised, Then mean 50.5 and p99 the 99th value.
    window = LatencyWindow(size=100)
    for ms in range(1, 101):
        window.record(f"GET /{ms}", float(ms))
    summary = window.summary()
    assert (summary.count, summary.mean_ms, summary.p99_ms) == (100, 50.5, 99.0)
    assert summary.slowest == "GET /100"


def test_latency_window_drops_the_oldest_calls() -> None:
    window = LatencyWindow(size=2)
    for ms in (500.0, 10.0, 20.0):
        window.record("GET /x", ms)
    assert window.summary().mean_ms == 15.0


def test_empty_window_has_no_figures() -> None:
    summary = LatencyWindow(size=5).summary()
    assert (summary.count, summary.mean_ms, summary.p99_ms, summary.window) == (0, None, None, 5)


def test_api_calls_are_timed_and_emulator_reads_are_not(client: ApiClient) -> None:
    # When the client calls the API twice and the two emulators once each,
    # Then only the two API calls enter the latency window.
    async def calls() -> None:
        await client.health()
        await client.search_tickers("app")
        await client.outbox(SENDGRID)
        await client.authorize(f"{OIDC}/oauth2/authorize?state=s")

    run(calls())
    summary = client.latency.summary()
    assert summary.count == 2
    assert summary.mean_ms is not None and summary.mean_ms >= 0


def test_absolute_urls_are_labelled_without_their_query(client: ApiClient) -> None:
    result = run(client.authorize(f"{OIDC}/oauth2/authorize?state=secret-state"))
    assert result.request == f"GET {OIDC}/oauth2/authorize"
    assert "secret" not in result.request


def test_answers_keep_their_headers_lower_cased(client: ApiClient) -> None:
    # Prices a session had fetched are cached: anybody's read of them says so in X-Cache.
    session = run(client.anonymous_session())
    run(client.ohlc("AAPL", "1M", session.body["token"]))
    result = run(client.ohlc("AAPL", "1M"))
    assert result.ok and result.cache == "hit"


def test_an_unreachable_api_is_a_problem_not_an_exception() -> None:
    client = ApiClient("http://127.0.0.1:9", timeout_s=0.5)
    result = run(client.health())
    assert not result.ok and result.problem is not None
    assert result.problem.code == "UNREACHABLE"
    assert client.latency.summary().count == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "error": {
                    "code": "INVALID_CONFIGURATION",
                    "message": "m",
                    "details": {"field": "name"},
                }
            },
            "name",
        ),
        (
            {"error": {"code": "UNKNOWN_TICKER", "message": "m", "details": {"ticker": "ZZZ"}}},
            "ZZZ",
        ),
        (
            {
                "error": {
                    "code": "INVALID_BODY",
                    "message": "m",
                    "details": [{"location": "body.tickers", "message": "required"}],
                }
            },
            "tickers",
        ),
        ({"error": {"code": "LIMIT_REACHED", "message": "m"}}, None),
    ],
)
def test_the_envelope_names_the_field(body: dict[str, object], field: str | None) -> None:
    problem = problem_of(400, body)
    assert problem.message == "m" and problem.field == field


def test_an_oauth_style_error_reads_like_the_envelope() -> None:
    problem = problem_of(400, {"error": "invalid_grant", "error_description": "code expired"})
    assert (problem.code, problem.message) == ("invalid_grant", "code expired")


def test_a_successful_result_has_no_problem() -> None:
    assert ApiResult(200, {}, 1.0).problem is None

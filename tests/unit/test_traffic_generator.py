"""The traffic generator's arithmetic and its command line, without a server: percentiles and
the summary table, option bounds, target resolution and the loopback guard, and the errors
the CLI prints instead of a traceback."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from services.traffic import cli
from services.traffic.notebook import RECORD_MIME, read_records
from services.traffic.scenarios import TargetRefusedError, check_target, expand
from services.traffic.scenarios.base import Options, OptionsError
from services.traffic.scenarios.price_sentiment import history_problems, ohlc_problems
from services.traffic.stats import RequestRecord, format_table, percentile, summarize
from services.traffic.target import (
    Target,
    TargetError,
    TrafficSettings,
    is_loopback_url,
    resolve_target,
)

pytestmark = pytest.mark.unit


def rec(
    status: int, latency_ms: float = 10.0, code: str | None = None, **kw: object
) -> RequestRecord:
    return RequestRecord(
        scenario="s",
        method="GET",
        route="/r",
        status=status,
        latency_ms=latency_ms,
        started_s=float(kw.pop("started_s", 0.0)),  # type: ignore[arg-type]
        error_code=code,
        **kw,  # type: ignore[arg-type]
    )


# --- statistics -----------------------------------------------------------------------------


def test_percentile_interpolates_between_ranks_like_numpy() -> None:
    values = [15.0, 20.0, 35.0, 40.0, 50.0]
    assert percentile(values, 0) == 15
    assert percentile(values, 100) == 50
    assert percentile(values, 50) == 35
    # (n - 1) * 0.4 = 1.6: between 20 and 35, 60 % of the way
    assert percentile(values, 40) == pytest.approx(29.0)
    assert percentile([7.0], 99) == 7
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_summary_sorts_answers_into_success_rate_limited_circuit_and_errors() -> None:
    # Given 10 answers: 6 ok, 2 rate limited, 1 refused by a circuit, 1 error (another 503)
    records = [rec(200, float(i + 1)) for i in range(6)]
    records += [rec(429, 1.0, "RATE_LIMITED"), rec(429, 1.0, "RATE_LIMITED")]
    records += [rec(503, 2.0, "PROVIDER_UNAVAILABLE"), rec(503, 2.0, "STORE_UNAVAILABLE")]

    summary = summarize(records)

    assert (summary.requests, summary.successes) == (10, 6)
    assert summary.success_pct == pytest.approx(60.0)
    assert (summary.rate_limited, summary.circuit_breaker, summary.errors) == (2, 1, 1)
    assert summary.status_counts == {"200": 6, "429": 2, "503": 2}
    latencies = [1, 2, 3, 4, 5, 6, 1, 1, 2, 2]
    assert summary.avg_ms == pytest.approx(sum(latencies) / 10)
    assert summary.p50_ms == pytest.approx(percentile([float(v) for v in latencies], 50))


def test_summary_leaves_unanswered_requests_out_of_the_latencies() -> None:
    summary = summarize([rec(200, 10.0), rec(0, 5000.0, failure="ConnectError")])
    assert summary.errors == 1 and summary.avg_ms == 10.0 and summary.p99_ms == 10.0


def test_summary_counts_unexpected_answers_and_measures_duration() -> None:
    records = [
        rec(200, 100.0, started_s=0.0),
        rec(404, 50.0, "NOT_FOUND", started_s=1.0, expected=False),
    ]
    summary = summarize(records)
    assert summary.unexpected == 1
    assert summary.duration_s == pytest.approx(1.05)
    assert summary.rate_per_s == pytest.approx(2 / 1.05)


def test_empty_summary_is_zeros_and_dashes_in_the_table() -> None:
    summary = summarize([])
    assert summary.requests == 0 and summary.success_pct == 0.0
    assert summary.as_dict()["p99_ms"] is None
    row = format_table([("basic", summary)]).splitlines()[2]
    assert row.split() == ["basic", "0", "0.0%", "0", "0", "0", "-", "-", "-", "-"]


def test_table_has_the_seed_columns_and_one_row_per_scenario() -> None:
    text = format_table(
        [
            ("basic", summarize([rec(200, 12.0), rec(429, 3.0, "RATE_LIMITED")])),
            ("load", summarize([])),
        ]
    )
    header, rule, basic, load = text.splitlines()
    for column in (
        "Requests", "Success %", "Errors", "Rate limited", "Circuit breaker",
        "Avg ms", "p50 ms", "p95 ms", "p99 ms",
    ):  # fmt: skip
        assert column in header
    assert set(rule) == {"-"}
    assert basic.split()[:6] == ["basic", "2", "50.0%", "0", "1", "0"]
    assert load.startswith("load")


# --- options, names and targets --------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "names"),
    [
        (Options(users=0), "users"),
        (Options(users=51), "users"),
        (Options(requests=501), "requests"),
        (Options(burst=0), "burst"),
        (Options(max_wait_s=601), "max_wait_s"),
        (Options(chaos="dns_outage"), "chaos"),
        (Options(tickers=()), "tickers"),
    ],
)
def test_options_outside_their_bounds_are_refused(options: Options, names: str) -> None:
    with pytest.raises(OptionsError, match=names):
        options.validate()


def test_all_expands_to_every_scenario_in_order() -> None:
    assert expand(["all"]) == [
        "basic", "price-sentiment", "cache", "load", "rate-limit", "circuit-breaker", "chaos",
    ]  # fmt: skip
    assert expand(["cache", "basic", "cache"]) == ["cache", "basic"]
    with pytest.raises(ValueError, match="unknown scenario"):
        expand(["stress"])


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://127.9.9.9", True),
        ("http://localhost:8080/", True),
        ("http://[::1]:8080", True),
        ("https://api.example.com", False),
        ("http://10.0.0.5:8080", False),
        ("http://127.0.0.1.example.com", False),
    ],
)
def test_loopback_is_decided_from_the_address(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_heavy_scenarios_only_go_to_loopback_unless_preprod_or_prod_was_chosen() -> None:
    remote = Target("https://api.example.com", "local")
    check_target(["basic", "price-sentiment", "cache"], remote)
    for name in ("load", "rate-limit", "circuit-breaker", "chaos"):
        with pytest.raises(TargetRefusedError, match="--env preprod"):
            check_target([name], remote)
    check_target(["load"], Target("https://api.example.com", "preprod", remote_chosen=True))
    check_target(["load"], Target("http://127.0.0.1:8080", "local"))


def test_local_target_reads_the_stack_file_and_the_operator_token(tmp_path: Path) -> None:
    (tmp_path / "stack.json").write_text(json.dumps({"api_url": "http://127.0.0.1:9999/"}))
    (tmp_path / "operator-token").write_text("secret-token\n")
    target = resolve_target("local", settings=TrafficSettings(local_state_dir=str(tmp_path)))
    assert target == Target("http://127.0.0.1:9999", "local", "secret-token")


def test_the_local_operator_token_is_never_sent_to_another_host(tmp_path: Path) -> None:
    (tmp_path / "operator-token").write_text("secret-token\n")
    settings = TrafficSettings(local_state_dir=str(tmp_path))
    assert resolve_target("local", "https://api.example.com", settings).operator_token is None
    assert resolve_target("local", "http://127.0.0.1:1", settings).operator_token == "secret-token"


def test_preprod_and_prod_read_their_urls_and_tokens_from_the_environment() -> None:
    settings = TrafficSettings(
        preprod_api_url="https://preprod.example.com/",
        prod_operator_token="p",  # type: ignore[arg-type]
    )
    preprod = resolve_target("preprod", settings=settings)
    assert (preprod.api_url, preprod.remote_chosen, preprod.operator_token) == (
        "https://preprod.example.com",
        True,
        None,
    )
    with pytest.raises(TargetError, match="PROD_API_URL"):
        resolve_target("prod", settings=settings)
    assert resolve_target("prod", "https://p.example.com", settings).operator_token == "p"


@pytest.mark.parametrize("url", ["127.0.0.1:8080", "ftp://127.0.0.1", "http://", "http://h:99999"])
def test_a_malformed_url_is_refused_with_a_hint(url: str) -> None:
    with pytest.raises(TargetError, match=r"URL|port"):
        resolve_target("local", url, TrafficSettings(local_state_dir="/nonexistent"))


# --- the command line -------------------------------------------------------------------------


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = cli.main(args)
    except SystemExit as exit_:  # argparse's own usage errors
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.err


def test_cli_without_a_stack_says_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))
    code, err = run_cli(["--scenario", "basic"], capsys)
    assert code == 2
    assert "make stack" in err and "--url" in err


def test_cli_refuses_load_against_a_remote_url_without_an_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", "/nonexistent")
    code, err = run_cli(["--url", "https://api.example.com", "--scenario", "load"], capsys)
    assert code == 2 and "loopback" in err and "--env preprod" in err


def test_cli_preprod_without_its_url_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("PREPROD_API_URL", raising=False)
    code, err = run_cli(["--env", "preprod"], capsys)
    assert code == 2 and "PREPROD_API_URL" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "0"], "users must be between 1 and 50"),
        (["--users", "many"], "not a whole number"),
        (["--requests", "100000"], "requests must be between 1 and 500"),
        (["--scenario", "stress"], "invalid choice"),
        (["--env", "staging"], "invalid choice"),
        (["--chaos", "dns"], "invalid choice"),
        (["--max-wait", "0"], "between 1 and 600"),
    ],
)
def test_cli_argument_errors_are_one_line_and_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run_cli(args, capsys)
    assert code == 2 and message in err


def test_cli_against_nothing_listening_reports_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOCAL_STATE_DIR", "/nonexistent")
    # Port 9 (discard) on loopback: nothing answers, the connection is refused at once.
    code = cli.main(["--url", "http://127.0.0.1:9", "--scenario", "basic", "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert "no answer from http://127.0.0.1:9" in captured.err
    assert "anonymous session failed" in captured.out
    assert "Traceback" not in captured.out + captured.err


# --- shape checks and recorded values --------------------------------------------------------


def test_price_shapes_are_checked_against_the_contract() -> None:
    candle = {"date": "2026-01-02", "open": 10, "high": 12, "low": 9, "close": 11, "volume": 5}
    good = {
        "ticker": "AAPL", "candles": [candle], "count": 1,
        "start_date": "2026-01-01", "end_date": "2026-01-02", "source": "tiingo",
    }  # fmt: skip
    assert ohlc_problems(good, "AAPL") == []
    assert "count 2 != 1 candles" in ohlc_problems({**good, "count": 2}, "AAPL")
    broken = {**good, "candles": [{**candle, "high": 8}]}
    assert ohlc_problems(broken, "AAPL") == ["candle 2026-01-02 is inconsistent"]
    assert "missing source" in ohlc_problems(
        {k: v for k, v in good.items() if k != "source"}, "AAPL"
    )
    point = {
        "date": "d",
        "score": 0.2,
        "label": "positive",
        "confidence": 0.5,
        "count": 3,
        "source": "x",
    }
    history = {"ticker": "AAPL", "source": "aggregated", "history": [point], "count": 1}
    assert history_problems(history, "AAPL", "aggregated") == []
    assert history_problems(
        {**history, "history": [{**point, "score": 1.5}]}, "AAPL", "aggregated"
    ) == ["point d is out of range"]


def test_recorded_values_are_read_back_from_an_executed_notebook(tmp_path: Path) -> None:
    def shown(value: object) -> dict[str, object]:
        return {"output_type": "display_data", "data": {RECORD_MIME: value}}

    document = {
        "cells": [
            {"cell_type": "code", "outputs": [shown({"a": 1})]},
            {"cell_type": "markdown"},
            {"cell_type": "code", "outputs": [{"output_type": "stream", "text": "x"}]},
            {"cell_type": "code", "outputs": [shown({"a": 2, "b": [1]})]},
        ]
    }
    path = tmp_path / "run.ipynb"
    path.write_text(json.dumps(document))
    assert read_records(path) == {"a": 2, "b": [1]}


def test_cli_with_a_stack_file_left_by_a_stopped_stack_says_to_start_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "stack.json").write_text(json.dumps({"api_url": "http://127.0.0.1:9"}))
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))
    code = cli.main(["--scenario", "basic", "--quiet"])
    captured = capsys.readouterr()
    assert code == 1
    assert "make stack" in captured.err and "Traceback" not in captured.err

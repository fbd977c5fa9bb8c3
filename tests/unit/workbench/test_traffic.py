"""The traffic generator section at the param level: a scenario run from the page with a fake
runner (the real `Recorder`, so the progress is the library's own), the live figures moved at
a throttled pace, the CLI's summary, cancelling, and errors said in words."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import panel as pn
import pytest

from services.settings import Settings
from services.traffic import Options, ProgressCallback, RequestRecord, ScenarioResult, Target
from services.traffic.client import Recorder
from services.traffic.scenarios import run_scenario
from tests.unit.workbench.loop import run
from tests.unit.workbench.markdown import shown
from tests.unit.workbench.memory_api import MemoryApi
from workbench.app import Stores
from workbench.client import ApiClient
from workbench.components.traffic import TrafficPanel
from workbench.local_stack import StackFiles
from workbench.stores.traffic import SECTION_SCENARIOS, TrafficStore

pytestmark = pytest.mark.unit

LOCAL_API = "http://127.0.0.1:8080"
TOKEN = "operator-secret"


def click(button: pn.widgets.Button) -> None:
    button.clicks += 1


@dataclass
class FakeRunner:
    """Stands in for `run_scenario`: each scenario answers `statuses` one request at a time
    through a real `Recorder`, and waits on `hold` (when given) before it returns."""

    statuses: tuple[int, ...] = (200, 201, 200)
    total: int | None = None
    failed_check: str | None = None
    pause_s: float = 0.0
    hold: asyncio.Event | None = None
    calls: list[tuple[str, Target, Options]] = field(default_factory=list)

    async def __call__(
        self,
        name: str,
        target: Target,
        options: Options,
        *,
        on_progress: ProgressCallback | None = None,
    ) -> ScenarioResult:
        self.calls.append((name, target, options))
        recorder = Recorder(name, on_progress)
        result = ScenarioResult(name, recorder.records)
        recorder.step(f"{name}: starting", total=self.total)
        for n, status in enumerate(self.statuses):
            recorder.add(
                RequestRecord(
                    scenario=name,
                    method="GET",
                    route=f"/api/v2/{name}/{n}",
                    status=status,
                    latency_ms=10.0 + n,
                    started_s=n * 0.01,
                    expected=status != 0,
                    failure="ConnectError" if status == 0 else None,
                )
            )
            if self.pause_s:
                await asyncio.sleep(self.pause_s)
        if self.hold is not None:
            await self.hold.wait()
        result.check("every step answered", self.failed_check is None, self.failed_check or "")
        return result


def section(runner: Any, api_url: str = LOCAL_API, **params: Any) -> TrafficPanel:
    store = TrafficStore(api_url, lambda: TOKEN, runner=runner, **params)
    return TrafficPanel(store=store)


def test_run_basic_shows_progress_codes_charts_and_the_clis_summary() -> None:
    # Given the section with the basic scenario chosen
    runner = FakeRunner(statuses=(201, 200, 200, 429), total=4)
    panel = section(runner, update_interval_s=0)
    store = panel.store
    assert list(panel.scenario_select.options) == [*SECTION_SCENARIOS, "all"]
    assert "circuit-breaker" not in panel.scenario_select.options
    assert "chaos" not in panel.scenario_select.options
    assert "press **Run**" in panel.live()

    # When Run is pressed
    click(panel.run_button)

    # Then the scenario ran against the workbench's API with the operator token (loopback)
    assert [(name, target.api_url, target.operator_token) for name, target, _ in runner.calls] == [
        ("basic", LOCAL_API, TOKEN)
    ]
    # And the page shows what it did
    assert store.running is False and store.outcome == "passed" and store.runs == 1
    assert store.done == 4 and store.status_counts == {200: 2, 201: 1, 429: 1}
    assert store.latencies_ms == [10.0, 11.0, 12.0, 13.0]
    assert panel.progress_bar.value == 100 and panel.progress_bar.active is False
    assert panel.run_button.disabled is False and panel.cancel_button.disabled is True
    assert "Every check passed" in panel.live() and "**4** requests" in panel.live()
    codes = panel.status_codes()
    assert 'data-status="429"' in codes and "</b></span>: 1" in codes
    charts = panel.charts()
    assert isinstance(charts, pn.Row) and len(charts) == 2
    # And the summary is the CLI's table, in a monospace block
    assert store.summary_text.splitlines()[0].startswith("Scenario")
    assert store.summary_text.splitlines()[2].split()[:2] == ["basic", "4"]
    assert '<pre class="traffic-summary"' in panel.summary()


def test_all_runs_the_five_scenarios_of_the_section_in_order_with_a_total_row() -> None:
    runner = FakeRunner(statuses=(200, 200))
    panel = section(runner, update_interval_s=0, scenario="all", users=3, requests=4, burst=20)

    click(panel.run_button)

    assert [name for name, _, _ in runner.calls] == list(SECTION_SCENARIOS)
    assert list(SECTION_SCENARIOS) == ["basic", "price-sentiment", "cache", "load", "rate-limit"]
    options = runner.calls[0][2]
    assert (options.users, options.requests, options.burst) == (3, 4, 20)
    store = panel.store
    rows = [line.split()[0] for line in store.summary_text.splitlines()[2:]]
    assert rows == [*SECTION_SCENARIOS, "total"]
    assert store.done == 10 and len(store.results) == 5
    assert store.fraction == 1.0


def test_inputs_follow_the_scenario_and_are_locked_while_it_runs() -> None:
    panel = section(FakeRunner())
    assert panel.users_input.disabled and panel.burst_input.disabled
    panel.scenario_select.value = "load"
    assert not panel.users_input.disabled and not panel.requests_input.disabled
    assert panel.burst_input.disabled
    panel.scenario_select.value = "rate-limit"
    assert not panel.burst_input.disabled and panel.users_input.disabled

    panel.store.running = True
    assert panel.run_button.disabled and not panel.cancel_button.disabled
    assert panel.scenario_select.disabled and panel.burst_input.disabled


def test_updates_are_throttled_and_the_last_one_still_arrives() -> None:
    # Given a store that moves its figures at most every 0.2 s
    runner = FakeRunner(statuses=(200,) * 30, total=30)
    store = TrafficStore(LOCAL_API, runner=runner, update_interval_s=0.2, chart_interval_s=10)
    seen: list[int] = []
    charts: list[int] = []
    store.param.watch(lambda e: seen.append(e.new), "done")
    store.param.watch(lambda e: charts.append(len(e.new)), "records")

    async def scenario() -> tuple[int, float | None]:
        hold = asyncio.Event()
        runner.hold = hold
        task = asyncio.create_task(store.run())
        await asyncio.sleep(0.05)
        # When 30 requests are heard within the interval of the scenario's first step,
        # Then none of them moves the figures yet
        assert seen == [] and store.running
        # And after the interval one trailing update shows the last of them
        await asyncio.sleep(0.3)
        trailing = store.done, store.fraction
        hold.set()
        await task
        return trailing

    done, fraction = run(scenario())
    assert done == 30 and fraction == 1.0
    assert seen == [30]
    # The charts, on their slower period, moved only when the run ended
    assert charts == [30]


def test_cancel_stops_the_run_and_keeps_what_it_did() -> None:
    runner = FakeRunner(statuses=(200, 200, 503))
    panel = section(runner, update_interval_s=0, scenario="load")
    store = panel.store

    async def scenario() -> None:
        runner.hold = asyncio.Event()  # bound to this loop
        task = asyncio.create_task(store.run())
        while store.done < 3:
            await asyncio.sleep(0.01)
        assert store.running and panel.progress_bar.active
        assert store.fraction is None and panel.progress_bar.value == -1  # total unknown
        assert "Running **load**" in panel.live()
        click(panel.cancel_button)
        await task

    run(scenario())
    assert store.running is False and store.outcome == "cancelled"
    assert "Cancelled" in panel.live()
    assert store.summary_text.splitlines()[2].split()[:2] == ["load", "3"]
    assert store.fraction is None  # not shown as complete
    assert store.status_counts == {200: 2, 503: 1}


def test_failed_checks_are_listed_under_the_table_as_the_cli_does() -> None:
    panel = section(FakeRunner(failed_check="GET /health answered 500"), update_interval_s=0)
    click(panel.run_button)
    assert panel.store.outcome == "failed checks"
    assert "  ! basic: every step answered failed (GET /health answered 500)" in (
        panel.store.summary_text
    )
    assert "Some checks failed" in panel.live()


def test_an_api_that_does_not_answer_is_said_so() -> None:
    panel = section(FakeRunner(statuses=(0, 0)), update_interval_s=0)
    click(panel.run_button)
    assert panel.store.status_counts == {0: 2}
    assert "no answer" in panel.status_codes()
    assert f"No answer from {LOCAL_API} (ConnectError): is the API running?" in shown(panel.live())


def test_heavy_scenarios_are_refused_for_a_remote_api_with_the_reason() -> None:
    # Given the workbench pointed at a deployed API, with the real runner
    panel = section(run_scenario, api_url="https://abc.lambda-url.us-east-1.on.aws/")
    store = panel.store
    # Then the local operator token is not sent there
    assert store.target().operator_token is None
    # When load is run, Then nothing is sent and the page says why
    store.scenario = "load"
    click(panel.run_button)
    assert store.outcome == "error" and store.done == 0
    assert "only to an API on this machine" in store.error
    assert "sentiment-traffic --env preprod" in shown(panel.live())
    assert panel.progress_bar.bar_color == "danger"


def test_a_failing_runner_is_shown_not_raised() -> None:
    async def broken(*_: Any, **__: Any) -> ScenarioResult:
        raise RuntimeError("the generator broke")

    panel = section(broken)
    click(panel.run_button)
    assert panel.store.outcome == "error" and panel.store.running is False
    assert "RuntimeError: the generator broke" in shown(panel.live())
    # And it can run again
    panel.store._runner = FakeRunner()
    click(panel.run_button)
    assert panel.store.outcome == "passed" and panel.store.error == ""


def test_the_page_aims_the_generator_at_its_own_api_with_the_stacks_token(
    api: MemoryApi, tmp_path: Path
) -> None:
    # Given the page's stores built as `app.py` builds them, against a local API
    (tmp_path / "operator-token").write_text(api.operator_token + "\n")
    settings = Settings(local_state_dir=str(tmp_path))
    page = Stores.build(ApiClient(LOCAL_API), StackFiles.from_settings(settings), settings)
    # Then the traffic goes to that API, with the token the stack wrote (read when needed)
    target = page.traffic.target()
    assert (target.api_url, target.operator_token) == (LOCAL_API, api.operator_token)
    assert api.operator_token not in repr(page.traffic.param.values())

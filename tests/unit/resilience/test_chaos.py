"""Fault-injection switches against emulators' control planes (answered here by an httpx mock
transport that keeps each emulator's fault and plan as the real ones do)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from services.resilience.chaos import (
    SCENARIO_NAMES,
    ChaosSwitches,
    ChaosUnavailableError,
    EmulatorControlError,
    TargetState,
    chaos_switches,
    emulator_root,
    plans_back_to_paid,
)
from services.settings import Settings

pytestmark = pytest.mark.unit

ROOTS = {
    "tiingo": "http://127.0.0.1:9001",
    "finnhub": "http://127.0.0.1:9002",
    "sendgrid": "http://127.0.0.1:9003",
}


class Emulators:
    """Each emulator's one fault switch and its plan (played for good, or for a while),
    behind their control routes."""

    def __init__(self, down: tuple[str, ...] = (), plan: str = "paid") -> None:
        self.faults: dict[str, dict[str, Any]] = {p: {"mode": None} for p in ROOTS}
        self.plans = {p: {"plan": plan, "remaining_s": 0.0, "not_in_plan": 0} for p in ROOTS}
        self.for_good = plan
        self.down = down
        self.bodies: list[tuple[str, dict[str, Any]]] = []
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        provider = next(p for p, root in ROOTS.items() if str(request.url).startswith(root))
        if provider in self.down:
            raise httpx.ConnectError("refused", request=request)
        self.calls.append((request.method, provider, request.url.path))
        if request.url.path == "/_emulator/plan":
            return httpx.Response(200, json=self._plan(provider, request))
        assert request.url.path == "/_emulator/faults"
        if request.method == "POST":
            body = json.loads(request.content)
            self.bodies.append((provider, body))
            self.faults[provider] = {"mode": body["mode"], "remaining_s": body["duration_s"]}
        elif request.method == "DELETE":
            self.faults[provider] = {"mode": None}
        fault = self.faults[provider]
        return httpx.Response(200, json={"remaining_s": 0.0, "injected": 0, **fault})

    def _plan(self, provider: str, request: httpx.Request) -> dict[str, Any]:
        state = self.plans[provider]
        if request.method == "POST":
            body = json.loads(request.content)
            self.bodies.append((provider, body))
            state.update(plan=body["plan"], remaining_s=body["duration_s"])
        elif request.method == "DELETE":
            state.update(plan=self.for_good, remaining_s=0.0)
        return dict(state)


def switches(emulators: Emulators, **roots: str | None) -> ChaosSwitches:
    return ChaosSwitches(
        {**ROOTS, **roots},  # type: ignore[arg-type]
        slow_delay_s=6.0,
        default_duration_s=3600.0,
        timeout_s=1.0,
        client=httpx.Client(transport=httpx.MockTransport(emulators)),
    )


def test_a_scenario_sets_its_faults_in_its_emulators_and_reads_them_back() -> None:
    emulators = Emulators()
    chaos = switches(emulators)
    state = chaos.switch("slow_upstream", True, 30.0)
    assert state.enabled and state.remaining_s == 30.0
    # Both news emulators slow, past the adapters' timeout; SendGrid untouched
    assert emulators.bodies == [
        ("tiingo", {"mode": "slow", "duration_s": 30.0, "delay_s": 6.0}),
        ("finnhub", {"mode": "slow", "duration_s": 30.0, "delay_s": 6.0}),
    ]
    states = chaos.states()
    assert [name for name, s in states.items() if s.enabled] == ["slow_upstream"]


def test_without_a_duration_a_scenario_ends_after_the_safety_net() -> None:
    emulators = Emulators()
    switches(emulators).switch("sendgrid_429", True)
    assert emulators.bodies == [("sendgrid", {"mode": "http_429", "duration_s": 3600.0})]


def test_switching_off_clears_only_faults_that_are_still_the_scenarios_own() -> None:
    emulators = Emulators()
    chaos = switches(emulators)
    chaos.switch("slow_upstream", True)
    chaos.switch("tiingo_500", True)  # replaces slow on Tiingo
    state = chaos.switch("slow_upstream", False)
    assert not state.enabled
    assert emulators.faults["tiingo"]["mode"] == "http_500"
    assert emulators.faults["finnhub"]["mode"] is None


def test_free_plan_keys_puts_tiingo_and_finnhub_on_the_free_plan_for_its_duration() -> None:
    emulators = Emulators()
    chaos = switches(emulators)
    state = chaos.switch("free_plan_keys", True, 120.0)
    # A timed plan in each news emulator, no fault anywhere; SendGrid untouched
    assert emulators.bodies == [
        ("tiingo", {"plan": "free", "duration_s": 120.0}),
        ("finnhub", {"plan": "free", "duration_s": 120.0}),
    ]
    assert all(f["mode"] is None for f in emulators.faults.values())
    assert state.enabled and state.remaining_s == 120.0
    assert {p: t.mode for p, t in state.targets.items() if t} == {
        "tiingo": "free",
        "finnhub": "free",
    }
    emulators.plans["finnhub"]["not_in_plan"] = 4  # the 403s it answered
    listed = chaos.states()["free_plan_keys"]
    assert listed.enabled and listed.targets["finnhub"] == TargetState("free", 120.0, 4)
    assert plans_back_to_paid([listed]) == set()


def test_switching_free_plan_keys_off_ends_the_timed_plans_so_paid_is_back() -> None:
    emulators = Emulators()
    chaos = switches(emulators)
    chaos.switch("free_plan_keys", True)
    assert [b["duration_s"] for _, b in emulators.bodies] == [3600.0, 3600.0]  # the safety net
    state = chaos.switch("free_plan_keys", False)
    assert ("DELETE", "tiingo", "/_emulator/plan") in emulators.calls
    assert ("DELETE", "finnhub", "/_emulator/plan") in emulators.calls
    assert not state.enabled and {t.mode for t in state.targets.values() if t} == {"paid"}
    # What the route forgets the refusals of (a fault scenario never names a provider)
    assert plans_back_to_paid([state]) == {"tiingo", "finnhub"}
    assert plans_back_to_paid([chaos.switch("tiingo_500", False)]) == set()


def test_a_free_plan_set_for_good_is_not_the_scenarios_and_is_left_alone() -> None:
    # Given a stack configured with free keys: the emulators play free for good
    emulators = Emulators(plan="free")
    chaos = switches(emulators)
    assert not chaos.states()["free_plan_keys"].enabled
    state = chaos.switch("free_plan_keys", False)
    assert not state.enabled and not any(m == "DELETE" for m, _, _ in emulators.calls)
    assert plans_back_to_paid([state]) == set()
    # Switched on and off, the free plan set for good is what remains
    chaos.switch("free_plan_keys", True, 60.0)
    assert chaos.switch("free_plan_keys", False).targets["tiingo"] == TargetState("free", 0.0, 0)


def test_every_switch_is_asked_once_for_the_list() -> None:
    emulators = Emulators()
    states = switches(emulators).states()
    assert set(states) == set(SCENARIO_NAMES)
    asked = [(p, path) for m, p, path in emulators.calls if m == "GET"]
    assert sorted(asked) == sorted(set(asked))
    assert ("tiingo", "/_emulator/plan") in asked and ("sendgrid", "/_emulator/plan") not in asked


def test_a_provider_without_an_emulator_cannot_be_switched() -> None:
    chaos = switches(Emulators(), tiingo=None)
    with pytest.raises(ChaosUnavailableError) as refused:
        chaos.switch("slow_upstream", True)
    assert refused.value.providers == ["tiingo"]
    states = chaos.states()
    assert not states["tiingo_500"].available and states["finnhub_500"].available


def test_an_emulator_that_does_not_answer_undoes_the_half_switched_scenario() -> None:
    emulators = Emulators(down=("finnhub",))
    chaos = switches(emulators)
    with pytest.raises(EmulatorControlError):
        chaos.switch("slow_upstream", True)
    assert emulators.faults["tiingo"]["mode"] is None
    assert chaos.states()["finnhub_500"].reason == "the finnhub emulator does not answer"


def test_emulators_are_found_from_the_base_urls_on_emulator_hosts_only() -> None:
    hosts = {"127.0.0.1", "localhost"}
    assert emulator_root("http://127.0.0.1:8123/api/v1", hosts) == "http://127.0.0.1:8123"
    assert emulator_root("https://finnhub.io/api/v1", hosts) is None
    settings = Settings(
        tiingo_base_url="http://localhost:7001", sendgrid_base_url="https://api.sendgrid.com"
    )
    chaos = chaos_switches(settings)
    assert chaos.control_urls == {
        "tiingo": "http://localhost:7001",
        "finnhub": None,
        "sendgrid": None,
    }
    assert chaos.slow_delay_s == settings.http_timeout_s + settings.chaos_slow_margin_s

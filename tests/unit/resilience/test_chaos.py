"""Fault-injection switches against emulators' control planes (answered here by an httpx mock
transport that keeps each emulator's fault as the real ones do)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from services.resilience.chaos import (
    ChaosSwitches,
    ChaosUnavailableError,
    EmulatorControlError,
    chaos_switches,
    emulator_root,
)
from services.settings import Settings

pytestmark = pytest.mark.unit

ROOTS = {
    "tiingo": "http://127.0.0.1:9001",
    "finnhub": "http://127.0.0.1:9002",
    "sendgrid": "http://127.0.0.1:9003",
}


class Emulators:
    """Each emulator's one fault switch, behind its control route."""

    def __init__(self, down: tuple[str, ...] = ()) -> None:
        self.faults: dict[str, dict[str, Any]] = {p: {"mode": None} for p in ROOTS}
        self.down = down
        self.bodies: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        provider = next(p for p, root in ROOTS.items() if str(request.url).startswith(root))
        if provider in self.down:
            raise httpx.ConnectError("refused", request=request)
        assert request.url.path == "/_emulator/faults"
        if request.method == "POST":
            body = json.loads(request.content)
            self.bodies.append((provider, body))
            self.faults[provider] = {"mode": body["mode"], "remaining_s": body["duration_s"]}
        elif request.method == "DELETE":
            self.faults[provider] = {"mode": None}
        fault = self.faults[provider]
        return httpx.Response(200, json={"remaining_s": 0.0, "injected": 0, **fault})


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

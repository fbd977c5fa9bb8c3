"""Fault injection: named scenarios switched on inside the provider emulators.

The faults happen where a real outage would: the emulator answers 500 or 429, or answers
after the adapters' timeout, so the real adapters (error mapping, timeouts), the circuit
breakers and the fallbacks meet them over HTTP exactly as they would meet a provider's.
Nothing in the services pretends to fail.

Each emulator's control plane is `/_emulator/faults` at the root of its base URL (Finnhub's
base URL carries `/api/v1`; the root is scheme and host). The emulators hold the state: every
API instance sees the same scenarios, and a scenario's duration ends it even when no API
instance is running. An emulator holds one fault at a time, so a scenario switched on replaces
another's fault on the same emulator (`slow_upstream` shares Tiingo and Finnhub with the 500s),
and switching a scenario off clears only faults that are still its own.

`free_plan_keys` switches plans instead of faults (`/_emulator/plan`): Tiingo and Finnhub play
the free plan, so their premium endpoints answer the providers' own 403 "not in your plan".
Its duration is the emulators' too: a plan switched with `duration_s` returns to the plan set
without one (the one the emulator was started with) by itself, as a fault ends; switching the
scenario off ends that timed plan at once. Only a timed free plan is the scenario's, so a
stack configured with free plans is never switched to paid by it. The stack remembers what a
provider refused for a day (`services/resilience/entitlements.py`), longer than the scenario:
the chaos route forgets those refusals when it switches the scenario off, and when a read of
the scenarios finds an emulator back on the paid plan (the duration ended, or a cycle recorded
a refusal after the switch); the other instances follow within their refresh.

Only base URLs on the configured emulator hosts are used (`CHAOS_EMULATOR_HOSTS`): a real
provider is never sent a control call, and a deployment without emulators (dev in AWS) learns
that the scenario cannot be switched there (409).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, get_args
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from services.settings import Settings

LOG = logging.getLogger(__name__)

ScenarioName = Literal[
    "tiingo_500", "finnhub_500", "slow_upstream", "sendgrid_429", "free_plan_keys"
]
SCENARIO_NAMES: tuple[ScenarioName, ...] = get_args(ScenarioName)
Provider = Literal["tiingo", "finnhub", "sendgrid"]
FaultMode = Literal["http_500", "http_429", "slow"]
# The emulator's switch a target turns: `/_emulator/faults` or `/_emulator/plan`.
Control = Literal["faults", "plan"]
# The emulators accept a fault's (and a timed plan's) duration and delay in (0, 3600] seconds.
MAX_DURATION_S = 3600.0


@dataclass(frozen=True, slots=True)
class TargetState:
    """One emulator's switch as it reports it: the fault (or the plan) played, the seconds
    left of it, and what it injected (faulted requests, or "not in your plan" answers)."""

    mode: str | None
    remaining_s: float
    injected: int


@dataclass(frozen=True, slots=True)
class Target:
    """What a scenario switches in one emulator: a fault mode, or the plan "free"."""

    provider: Provider
    mode: FaultMode | Literal["free"]
    control: Control = "faults"

    def holds(self, state: TargetState) -> bool:
        """Whether the emulator plays this target now. A plan is the scenario's only while
        timed: the plan the emulator plays for good (the configured one) is nobody's."""
        return state.mode == self.mode and (self.control == "faults" or state.remaining_s > 0)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: ScenarioName
    description: str
    targets: tuple[Target, ...]


SCENARIOS: Mapping[ScenarioName, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "tiingo_500",
            "Tiingo answers 500 to every call: its news and prices fail, and its circuit opens "
            "after the failure threshold; cached prices still answer.",
            (Target("tiingo", "http_500"),),
        ),
        Scenario(
            "finnhub_500",
            "Finnhub answers 500 to every call: sentiment falls back to Tiingo and our model, "
            "and source_status says which source is missing.",
            (Target("finnhub", "http_500"),),
        ),
        Scenario(
            "slow_upstream",
            "Tiingo and Finnhub answer only after the adapters' timeout: calls time out and "
            "fail fast instead of holding requests; cached copies answer.",
            (Target("tiingo", "slow"), Target("finnhub", "slow")),
        ),
        Scenario(
            "sendgrid_429",
            "SendGrid answers 429 (rate limited): e-mails wait for a retry, none is dropped.",
            (Target("sendgrid", "http_429"),),
        ),
        Scenario(
            "free_plan_keys",
            "The keys turn out to be free-plan keys. Tiingo news and Finnhub's sentiment "
            "answer 403 not-in-plan: those sources drop out as not_entitled (with the reason) "
            "at the next ingestion cycle, /health is degraded under plans, and the ensemble "
            "runs on our model over Finnhub's company news. Off: the emulators' own plan again "
            "(paid on the demo stack), and the recorded refusals are forgotten.",
            (Target("tiingo", "free", "plan"), Target("finnhub", "free", "plan")),
        ),
    )
}


class ChaosUnavailableError(Exception):
    """A provider of the scenario is not an emulator here (e.g. dev in AWS)."""

    def __init__(self, scenario: ScenarioName, providers: list[Provider]) -> None:
        names = ", ".join(providers)
        super().__init__(
            f"{scenario} cannot be switched here: no emulator is configured for {names} "
            f"(its base URL is not on an emulator host, CHAOS_EMULATOR_HOSTS)"
        )
        self.scenario = scenario
        self.providers = providers


class EmulatorControlError(Exception):
    """An emulator's control plane did not answer (or refused the switch)."""

    def __init__(self, provider: Provider, reason: str) -> None:
        super().__init__(f"the {provider} emulator could not be switched: {reason}")
        self.provider = provider


@dataclass(frozen=True, slots=True)
class ScenarioState:
    scenario: ScenarioName
    description: str
    available: bool
    enabled: bool
    remaining_s: float
    targets: dict[str, TargetState | None]
    reason: str | None = None


Asked = Mapping[tuple[Provider, Control], TargetState | None]


class ChaosSwitches:
    def __init__(
        self,
        control_urls: Mapping[Provider, str | None],
        *,
        slow_delay_s: float,
        default_duration_s: float,
        timeout_s: float,
        client: httpx.Client | None = None,
    ) -> None:
        self.control_urls = dict(control_urls)
        self.slow_delay_s = min(slow_delay_s, MAX_DURATION_S)
        self.default_duration_s = min(default_duration_s, MAX_DURATION_S)
        self._client = client or httpx.Client(timeout=timeout_s)

    def states(self) -> dict[ScenarioName, ScenarioState]:
        """Every scenario, from the emulators' own switches (each asked once)."""
        switches = {
            (t.provider, t.control)
            for scenario in SCENARIOS.values()
            for t in scenario.targets
            if self.control_urls.get(t.provider) is not None
        }
        asked = {key: self._target_of(*key) for key in sorted(switches)}
        return {name: self._state(SCENARIOS[name], asked) for name in SCENARIO_NAMES}

    def switch(
        self, name: ScenarioName, enabled: bool, duration_s: float | None = None
    ) -> ScenarioState:
        scenario = SCENARIOS[name]
        missing = self._missing(scenario)
        if missing:
            raise ChaosUnavailableError(name, missing)
        if enabled:
            self._switch_on(scenario, duration_s or self.default_duration_s)
        else:
            self._switch_off(scenario)
        # A warning, so an injected outage is never mistaken for a real one in the logs.
        LOG.warning("fault injection: %s switched %s", name, "on" if enabled else "off")
        keys = {(t.provider, t.control) for t in scenario.targets}
        return self._state(scenario, {key: self._target_of(*key) for key in keys})

    def _switch_on(self, scenario: Scenario, duration_s: float) -> None:
        switched: list[Target] = []
        for target in scenario.targets:
            try:
                self._call("POST", target.provider, target.control, self._on(target, duration_s))
            except EmulatorControlError:
                # Half a scenario is not the scenario: undo what was switched, then report.
                with contextlib.suppress(EmulatorControlError):
                    self._switch_off(replace(scenario, targets=tuple(switched)))
                raise
            switched.append(target)

    def _on(self, target: Target, duration_s: float) -> dict[str, Any]:
        duration = min(duration_s, MAX_DURATION_S)
        if target.control == "plan":
            return {"plan": target.mode, "duration_s": duration}
        body: dict[str, Any] = {"mode": target.mode, "duration_s": duration}
        if target.mode == "slow":
            body["delay_s"] = self.slow_delay_s
        return body

    def _switch_off(self, scenario: Scenario) -> None:
        for target in scenario.targets:
            current = self._target_of(target.provider, target.control)
            if current is not None and target.holds(current):
                self._call("DELETE", target.provider, target.control)

    def _missing(self, scenario: Scenario) -> list[Provider]:
        return [t.provider for t in scenario.targets if self.control_urls.get(t.provider) is None]

    def _state(self, scenario: Scenario, asked: Asked) -> ScenarioState:
        found = {t: asked.get((t.provider, t.control)) for t in scenario.targets}
        missing = self._missing(scenario)
        silent = [t.provider for t, s in found.items() if t.provider not in missing and s is None]
        reason = None
        if missing:
            reason = f"no emulator is configured for {', '.join(missing)}"
        elif silent:
            reason = f"the {', '.join(silent)} emulator does not answer"
        enabled = reason is None and all(s is not None and t.holds(s) for t, s in found.items())
        remaining = min(s.remaining_s for s in found.values() if s is not None) if enabled else 0.0
        return ScenarioState(
            scenario=scenario.name,
            description=scenario.description,
            available=reason is None,
            enabled=enabled,
            remaining_s=remaining,
            targets={t.provider: s for t, s in found.items()},
            reason=reason,
        )

    def _target_of(self, provider: Provider, control: Control) -> TargetState | None:
        try:
            body = self._call("GET", provider, control)
        except EmulatorControlError:
            return None
        # A plan switch reports the plan played and the "not in your plan" answers it gave.
        plan = control == "plan"
        return TargetState(
            mode=body.get("plan" if plan else "mode"),
            remaining_s=float(body.get("remaining_s") or 0.0),
            injected=int(body.get("not_in_plan" if plan else "injected") or 0),
        )

    def _call(
        self, method: str, provider: Provider, control: Control, body: Any = None
    ) -> dict[str, Any]:
        url = f"{self.control_urls[provider]}/_emulator/{control}"
        try:
            response = self._client.request(method, url, json=body)
        except httpx.HTTPError as error:
            raise EmulatorControlError(provider, type(error).__name__) from error
        if response.status_code != 200:
            raise EmulatorControlError(provider, f"it answered {response.status_code}")
        answer = response.json()
        return answer if isinstance(answer, dict) else {}


def plans_back_to_paid(states: Iterable[ScenarioState]) -> set[Provider]:
    """The providers whose emulator a plan scenario found playing the paid plan: what the stack
    recorded as refused by them while they played the free plan no longer holds."""
    return {
        target.provider
        for state in states
        for target in SCENARIOS[state.scenario].targets
        if target.control == "plan"
        and (found := state.targets.get(target.provider)) is not None
        and found.mode == "paid"
    }


def emulator_root(base_url: str, hosts: set[str]) -> str | None:
    """The emulator's root (scheme and host) when `base_url` is on an emulator host."""
    parts = urlsplit(base_url)
    if parts.hostname is None or parts.hostname not in hosts:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def chaos_switches(settings: Settings, client: httpx.Client | None = None) -> ChaosSwitches:
    """The switches of the emulators the settings point at (`client` reaches their control
    routes; one of its own by default)."""
    hosts = {h.strip() for h in settings.chaos_emulator_hosts.split(",") if h.strip()}
    bases: dict[Provider, str] = {
        "tiingo": settings.tiingo_base_url,
        "finnhub": settings.finnhub_base_url,
        "sendgrid": settings.sendgrid_base_url,
    }
    return ChaosSwitches(
        {provider: emulator_root(url, hosts) for provider, url in bases.items()},
        slow_delay_s=settings.http_timeout_s + settings.chaos_slow_margin_s,
        default_duration_s=settings.chaos_default_duration_s,
        timeout_s=settings.chaos_control_timeout_s,
        client=client,
    )

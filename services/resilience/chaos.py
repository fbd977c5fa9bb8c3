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

Only base URLs on the configured emulator hosts are used (`CHAOS_EMULATOR_HOSTS`): a real
provider is never sent a control call, and a deployment without emulators (dev in AWS) learns
that the scenario cannot be switched there (409).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from services.settings import Settings

LOG = logging.getLogger(__name__)

ScenarioName = Literal["tiingo_500", "finnhub_500", "slow_upstream", "sendgrid_429"]
SCENARIO_NAMES: tuple[ScenarioName, ...] = get_args(ScenarioName)
Provider = Literal["tiingo", "finnhub", "sendgrid"]
FaultMode = Literal["http_500", "http_429", "slow"]
# The emulators accept a fault's duration and delay in (0, 3600] seconds.
MAX_DURATION_S = 3600.0


@dataclass(frozen=True, slots=True)
class Scenario:
    name: ScenarioName
    description: str
    faults: tuple[tuple[Provider, FaultMode], ...]


SCENARIOS: Mapping[ScenarioName, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "tiingo_500",
            "Tiingo answers 500 to every call: its news and prices fail, and its circuit opens "
            "after the failure threshold; cached prices still answer.",
            (("tiingo", "http_500"),),
        ),
        Scenario(
            "finnhub_500",
            "Finnhub answers 500 to every call: sentiment falls back to Tiingo and our model, "
            "and source_status says which source is missing.",
            (("finnhub", "http_500"),),
        ),
        Scenario(
            "slow_upstream",
            "Tiingo and Finnhub answer only after the adapters' timeout: calls time out and "
            "fail fast instead of holding requests; cached copies answer.",
            (("tiingo", "slow"), ("finnhub", "slow")),
        ),
        Scenario(
            "sendgrid_429",
            "SendGrid answers 429 (rate limited): e-mails wait for a retry, none is dropped.",
            (("sendgrid", "http_429"),),
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
class TargetState:
    """One emulator's fault as it reports it (None when it could not be asked)."""

    mode: str | None
    remaining_s: float
    injected: int


@dataclass(frozen=True, slots=True)
class ScenarioState:
    scenario: ScenarioName
    description: str
    available: bool
    enabled: bool
    remaining_s: float
    targets: dict[str, TargetState | None]
    reason: str | None = None


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
        """Every scenario, from the emulators' own fault switches (each asked once)."""
        asked = {
            provider: self._fault_of(provider)
            for provider, url in self.control_urls.items()
            if url is not None
        }
        return {name: self._state(SCENARIOS[name], asked) for name in SCENARIO_NAMES}

    def switch(
        self, name: ScenarioName, enabled: bool, duration_s: float | None = None
    ) -> ScenarioState:
        scenario = SCENARIOS[name]
        missing = [p for p, _ in scenario.faults if self.control_urls.get(p) is None]
        if missing:
            raise ChaosUnavailableError(name, missing)
        if enabled:
            self._switch_on(scenario, duration_s or self.default_duration_s)
        else:
            self._switch_off(scenario)
        # A warning, so an injected outage is never mistaken for a real one in the logs.
        LOG.warning("fault injection: %s switched %s", name, "on" if enabled else "off")
        providers = {provider for provider, _ in scenario.faults}
        return self._state(scenario, {p: self._fault_of(p) for p in providers})

    def _switch_on(self, scenario: Scenario, duration_s: float) -> None:
        switched: list[tuple[Provider, FaultMode]] = []
        for provider, mode in scenario.faults:
            body: dict[str, Any] = {"mode": mode, "duration_s": min(duration_s, MAX_DURATION_S)}
            if mode == "slow":
                body["delay_s"] = self.slow_delay_s
            try:
                self._call("POST", provider, body)
            except EmulatorControlError:
                # Half a scenario is not the scenario: undo what was switched, then report.
                with contextlib.suppress(EmulatorControlError):
                    self._switch_off(Scenario(scenario.name, scenario.description, tuple(switched)))
                raise
            switched.append((provider, mode))

    def _switch_off(self, scenario: Scenario) -> None:
        for provider, mode in scenario.faults:
            current = self._fault_of(provider)
            if current is not None and current.mode == mode:
                self._call("DELETE", provider)

    def _state(
        self, scenario: Scenario, asked: Mapping[Provider, TargetState | None]
    ) -> ScenarioState:
        targets: dict[str, TargetState | None] = {p: asked.get(p) for p, _ in scenario.faults}
        missing = [p for p, _ in scenario.faults if self.control_urls.get(p) is None]
        silent = [p for p, _ in scenario.faults if p not in missing and asked.get(p) is None]
        reason = None
        if missing:
            reason = f"no emulator is configured for {', '.join(missing)}"
        elif silent:
            reason = f"the {', '.join(silent)} emulator does not answer"
        enabled = reason is None and all(
            (state := asked.get(p)) is not None and state.mode == mode
            for p, mode in scenario.faults
        )
        remaining = (
            min(s.remaining_s for s in targets.values() if s is not None) if enabled else 0.0
        )
        return ScenarioState(
            scenario=scenario.name,
            description=scenario.description,
            available=reason is None,
            enabled=enabled,
            remaining_s=remaining,
            targets=targets,
            reason=reason,
        )

    def _fault_of(self, provider: Provider) -> TargetState | None:
        try:
            body = self._call("GET", provider)
        except EmulatorControlError:
            return None
        return TargetState(
            mode=body.get("mode"),
            remaining_s=float(body.get("remaining_s") or 0.0),
            injected=int(body.get("injected") or 0),
        )

    def _call(self, method: str, provider: Provider, body: Any = None) -> dict[str, Any]:
        url = f"{self.control_urls[provider]}/_emulator/faults"
        try:
            response = self._client.request(method, url, json=body)
        except httpx.HTTPError as error:
            raise EmulatorControlError(provider, type(error).__name__) from error
        if response.status_code != 200:
            raise EmulatorControlError(provider, f"it answered {response.status_code}")
        answer = response.json()
        return answer if isinstance(answer, dict) else {}


def emulator_root(base_url: str, hosts: set[str]) -> str | None:
    """The emulator's root (scheme and host) when `base_url` is on an emulator host."""
    parts = urlsplit(base_url)
    if parts.hostname is None or parts.hostname not in hosts:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def chaos_switches(settings: Settings) -> ChaosSwitches:
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
    )

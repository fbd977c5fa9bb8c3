"""`GET, POST /api/v2/ops/chaos`: fault injection inside the provider emulators (operator
only). The routes exist only where faults may be injected (local and dev); elsewhere they
are not registered at all, so they answer 404 like any unknown path and are absent from the
OpenAPI document. A function running in Lambda registers them in `dev` only, never because
it calls itself `local` (settings refuse to start a Lambda function that names no
environment at all).

Both routes also forget what a provider refused as "not in your plan" once its emulator plays
the paid plan again (`free_plan_keys` switched off or ended, see `services/resilience/chaos.py`):
the refusals are kept a day otherwise, and the stack would go on without those sources."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter
from pydantic import BaseModel, Field

from services.adapters.plans import PREMIUM
from services.api.dependencies import ApiDependencies
from services.api.operator import require_operator
from services.resilience.chaos import (
    MAX_DURATION_S,
    ScenarioName,
    ScenarioState,
    plans_back_to_paid,
)
from services.settings import Settings

CHAOS_ENVIRONMENTS = ("local", "dev")
DEPLOYED_CHAOS_ENVIRONMENTS = ("dev",)


class ChaosSwitchIn(BaseModel):
    scenario: ScenarioName
    enabled: bool
    duration_s: Annotated[
        float | None,
        Field(gt=0, le=MAX_DURATION_S, description="switch itself off after this many seconds"),
    ] = None


class ChaosTargetOut(BaseModel):
    mode: str | None
    remaining_s: float
    injected: int


class ChaosScenarioOut(BaseModel):
    scenario: ScenarioName
    description: str
    available: bool
    enabled: bool
    remaining_s: float
    # Each emulator's fault as it reports it; null when it could not be asked.
    targets: dict[str, ChaosTargetOut | None]
    reason: str | None

    @classmethod
    def of(cls, state: ScenarioState) -> ChaosScenarioOut:
        return cls(
            scenario=state.scenario,
            description=state.description,
            available=state.available,
            enabled=state.enabled,
            remaining_s=round(state.remaining_s, 1),
            targets={
                provider: None
                if target is None
                else ChaosTargetOut(
                    mode=target.mode, remaining_s=target.remaining_s, injected=target.injected
                )
                for provider, target in state.targets.items()
            },
            reason=state.reason,
        )


class ChaosOut(BaseModel):
    scenarios: dict[str, ChaosScenarioOut]


def forget_refusals(
    deps: ApiDependencies, states: Iterable[ScenarioState], *, recorded_only: bool
) -> None:
    """Forget the premium endpoints' refusals of the providers whose emulator plays the paid
    plan again. `recorded_only`: just those this instance's copy holds, so a read of the
    scenarios (the workbench polls it) costs no write when there is nothing to forget."""
    paid = plans_back_to_paid(states)
    if not paid:
        return
    if recorded_only:
        stale = [
            (r.provider, r.endpoint)
            for r in deps.entitlements.refusals()
            if r.by == "provider" and r.provider in paid and r.endpoint in PREMIUM[r.provider]
        ]
    else:
        # Switched off by hand: this instance's copy may be older than another's record.
        stale = [(p, e) for p in sorted(paid) for e in sorted(PREMIUM[p])]
    for provider, endpoint in stale:
        deps.entitlements.forget(provider, endpoint)


def chaos_allowed(settings: Settings) -> bool:
    """Fault injection is served locally and in dev; a deployed function never counts as
    local, whatever its settings say."""
    if settings.aws_lambda_function_name:
        return settings.environment in DEPLOYED_CHAOS_ENVIRONMENTS
    return settings.environment in CHAOS_ENVIRONMENTS


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()
    if not chaos_allowed(deps.settings):
        return router

    @router.get("/api/v2/ops/chaos", tags=["ops"])
    def list_scenarios() -> ChaosOut:
        require_operator(router.current_event.headers, deps.settings)
        states = deps.chaos.states()
        # A scenario's duration ends in the emulators, with no call here: this read notices.
        forget_refusals(deps, states.values(), recorded_only=True)
        return ChaosOut(scenarios={name: ChaosScenarioOut.of(s) for name, s in states.items()})

    @router.post("/api/v2/ops/chaos", tags=["ops"])
    def switch_scenario(body: ChaosSwitchIn) -> ChaosScenarioOut:
        require_operator(router.current_event.headers, deps.settings)
        state = deps.chaos.switch(body.scenario, body.enabled, body.duration_s)
        if not body.enabled:
            forget_refusals(deps, [state], recorded_only=False)
        return ChaosScenarioOut.of(state)

    return router

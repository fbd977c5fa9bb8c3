"""`GET, POST /api/v2/ops/chaos`: fault injection inside the provider emulators (operator
only). The routes exist only where faults may be injected (local and dev); elsewhere they
are not registered at all, so they answer 404 like any unknown path and are absent from the
OpenAPI document."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter
from pydantic import BaseModel, Field

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.operator import require_operator
from services.resilience.chaos import (
    MAX_DURATION_S,
    ChaosUnavailableError,
    EmulatorControlError,
    ScenarioName,
    ScenarioState,
)

CHAOS_ENVIRONMENTS = ("local", "dev")
# A hint, not a promise: an emulator that did not answer is usually restarting.
EMULATOR_RETRY_AFTER_S = 5


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


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()
    if deps.settings.environment not in CHAOS_ENVIRONMENTS:
        return router

    @router.get("/api/v2/ops/chaos", tags=["ops"])
    def list_scenarios() -> ChaosOut:
        require_operator(router.current_event.headers, deps.settings)
        states = deps.chaos.states()
        return ChaosOut(scenarios={name: ChaosScenarioOut.of(s) for name, s in states.items()})

    @router.post("/api/v2/ops/chaos", tags=["ops"])
    def switch_scenario(body: ChaosSwitchIn) -> ChaosScenarioOut:
        require_operator(router.current_event.headers, deps.settings)
        try:
            state = deps.chaos.switch(body.scenario, body.enabled, body.duration_s)
        except ChaosUnavailableError as error:
            raise ApiError(
                409,
                "CHAOS_UNAVAILABLE",
                str(error),
                {"scenario": error.scenario, "providers": list(error.providers)},
            ) from None
        except EmulatorControlError as error:
            raise ApiError(
                503,
                "EMULATOR_UNAVAILABLE",
                str(error),
                {"provider": error.provider, "retry_after_s": EMULATOR_RETRY_AFTER_S},
                headers={"Retry-After": str(EMULATOR_RETRY_AFTER_S)},
            ) from None
        return ChaosScenarioOut.of(state)

    return router

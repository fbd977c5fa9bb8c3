"""Operator routes of the resilience layer: each provider's circuit (with the log of its state
changes) and each provider's quotas, each in its current period.

Both read the table, not this instance's copies: an operator asks what every instance shares.
Reading the quotas also adds this instance's own pending counts first, so its calls are in
the figures too.
"""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter
from pydantic import BaseModel, ConfigDict, Field

from services.api.dependencies import ApiDependencies
from services.api.operator import require_operator
from services.clock import iso
from services.resilience.breaker import CircuitView
from services.resilience.quota import QuotaView
from services.store.circuits import CircuitTransition

State = Literal["closed", "open", "half_open"]
# State changes listed: a few per outage, so this covers days of them.
TRANSITIONS_LISTED = 50


class CircuitOut(BaseModel):
    state: State = Field(
        description="half_open once an open circuit's timeout has passed: the next call is "
        "its single trial"
    )
    failures: int = Field(description="counted failures: in the window, or those that opened it")
    threshold: int
    opened_at: str | None
    retry_at: str | None = Field(description="when an open circuit lets its trial call through")
    trial_in_progress: bool
    changed_at: str | None

    @classmethod
    def of(cls, view: CircuitView) -> CircuitOut:
        return cls(
            state=view.state,
            failures=view.failures,
            threshold=view.threshold,
            opened_at=iso(view.opened_at) if view.opened_at else None,
            retry_at=iso(view.retry_at) if view.retry_at else None,
            trial_in_progress=view.trial_in_progress,
            changed_at=iso(view.changed_at) if view.changed_at else None,
        )


class TransitionOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    service: str
    from_state: State = Field(alias="from")
    to_state: State = Field(alias="to")
    at: str
    reason: str
    failures: int

    @classmethod
    def of(cls, transition: CircuitTransition) -> TransitionOut:
        return cls(
            service=transition.service,
            from_state=transition.from_state,
            to_state=transition.to_state,
            at=iso(transition.at),
            reason=transition.reason,
            failures=transition.failures,
        )


class CircuitsOut(BaseModel):
    circuits: dict[str, CircuitOut]
    transitions: list[TransitionOut] = Field(description="state changes, newest first")


Level = Literal["ok", "warning", "critical"]


class QuotaLimitOut(BaseModel):
    provider: str
    name: str = Field(description="requests_per_hour, symbols_per_month, budget_per_day, ...")
    counts: Literal["requests", "symbols"] = Field(
        description="requests (one per HTTP request) or distinct symbols asked for"
    )
    per: Literal["second", "minute", "hour", "day", "month"]
    used: int
    limit: int
    period: str = Field(
        description="the UTC period counted: 2026-11, 2026-11-05, 2026-11-05T14, "
        "2026-11-05T14:03 or 2026-11-05T14:03:07"
    )
    resets_at: str
    level: Level

    @classmethod
    def of(cls, view: QuotaView) -> QuotaLimitOut:
        return cls(
            provider=view.service,
            name=view.name,
            counts=view.counts,
            per=view.per,
            used=view.used,
            limit=view.limit,
            period=view.period,
            resets_at=iso(view.resets_at),
            level=view.level,
        )


class ProviderQuotaOut(BaseModel):
    """A provider's quotas: its tightest one's figures (the one closest to refusing), and
    every one of them in `limits`, tightest first."""

    name: str = Field(description="the tightest quota's name")
    used: int
    limit: int
    period: str = Field(description="the tightest quota's UTC period")
    resets_at: str
    level: Level
    limits: list[QuotaLimitOut]

    @classmethod
    def of(cls, views: list[QuotaView]) -> ProviderQuotaOut:
        tightest = views[0]
        return cls(
            name=tightest.name,
            used=tightest.used,
            limit=tightest.limit,
            period=tightest.period,
            resets_at=iso(tightest.resets_at),
            level=tightest.level,
            limits=[QuotaLimitOut.of(v) for v in views],
        )


class QuotasOut(BaseModel):
    quotas: dict[str, ProviderQuotaOut] = Field(description="per provider")


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    def authorize() -> None:
        require_operator(router.current_event.headers, deps.settings)

    @router.get("/api/v2/ops/circuits", tags=["ops"])
    def circuits() -> CircuitsOut:
        authorize()
        guard = deps.guard
        return CircuitsOut(
            circuits={s: CircuitOut.of(guard.breaker(s).view(fresh=True)) for s in guard.services},
            transitions=[TransitionOut.of(t) for t in guard.transitions(limit=TRANSITIONS_LISTED)],
        )

    @router.get("/api/v2/ops/quotas", tags=["ops"])
    def quotas() -> QuotasOut:
        authorize()
        views = deps.guard.quotas.all_views(fresh=True, write=True)
        return QuotasOut(quotas={s: ProviderQuotaOut.of(v) for s, v in views.items()})

    return router

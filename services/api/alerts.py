"""Alert rules on a configuration's tickers, and the user's e-mail quota."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter
from pydantic import BaseModel, ConfigDict, Field

from services.alerts.manage import AlertService, EmailQuota
from services.api.dependencies import ApiDependencies
from services.api.openapi import created
from services.api.principal import current_principal
from services.api.schemas import Strict
from services.clock import iso
from services.store.models import Alert

AlertId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class AlertIn(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "config_id": "3f1c9a52-8d7e-4b60-9a21-5c0e7d4b2f18",
                    "ticker": "AAPL",
                    "alert_type": "sentiment_threshold",
                    "direction": "below",
                    "threshold": -0.4,
                }
            ]
        }
    )
    config_id: str = Field(min_length=1, max_length=64)
    ticker: str = Field(min_length=1, max_length=10)
    alert_type: Literal["sentiment_threshold", "volatility_threshold"]
    direction: Literal["above", "below"]
    threshold: float = Field(description="[-1, 1] for sentiment; ATR % of price for volatility")


class AlertPatch(Strict):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"threshold": 0.3, "enabled": False}]}
    )
    direction: Literal["above", "below"] | None = None
    threshold: float | None = None
    enabled: bool | None = None


class AlertOut(BaseModel):
    alert_id: str
    config_id: str
    ticker: str
    alert_type: str
    direction: str
    threshold: float
    enabled: bool
    created_at: str
    updated_at: str
    last_triggered_at: str | None
    # The condition holds and the rule already fired: it fires again once it has cleared.
    in_breach: bool = False

    @classmethod
    def of(cls, alert: Alert) -> AlertOut:
        return cls(
            alert_id=alert.alert_id,
            config_id=alert.config_id,
            ticker=alert.ticker,
            alert_type=alert.alert_type,
            direction=alert.direction,
            threshold=alert.threshold,
            enabled=alert.enabled,
            created_at=iso(alert.created_at),
            updated_at=iso(alert.updated_at),
            last_triggered_at=iso(alert.last_triggered_at) if alert.last_triggered_at else None,
            in_breach=alert.in_breach,
        )


class AlertList(BaseModel):
    alerts: list[AlertOut]
    max_allowed: int


class QuotaOut(BaseModel):
    daily_limit: int
    used_today: int
    remaining: int
    resets_at: str

    @classmethod
    def of(cls, quota: EmailQuota) -> QuotaOut:
        return cls(
            daily_limit=quota.daily_limit,
            used_today=quota.used_today,
            remaining=quota.remaining,
            resets_at=iso(quota.resets_at),
        )


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()
    service = AlertService(
        deps.store.alerts,
        deps.store.configurations,
        deps.settings,
        deps.clock,
    )

    @router.get("/api/v2/alerts", tags=["alerts"])
    def list_alerts() -> AlertList:
        principal = current_principal(router, deps)
        return AlertList(
            alerts=[AlertOut.of(a) for a in service.list(principal)],
            max_allowed=service.max_alerts(principal),
        )

    @router.post("/api/v2/alerts", tags=["alerts"], responses=created(AlertOut))
    def create_alert(body: AlertIn) -> Response[AlertOut]:
        principal = current_principal(router, deps)
        alert = service.create(
            principal,
            config_id=body.config_id,
            ticker=body.ticker,
            alert_type=body.alert_type,
            direction=body.direction,
            threshold=body.threshold,
        )
        return Response(201, content_types.APPLICATION_JSON, AlertOut.of(alert))

    @router.get("/api/v2/alerts/quota", tags=["alerts"])
    def quota() -> QuotaOut:
        return QuotaOut.of(service.quota(current_principal(router, deps)))

    @router.patch("/api/v2/alerts/<alert_id>", tags=["alerts"])
    def update_alert(alert_id: AlertId, body: AlertPatch) -> AlertOut:
        principal = current_principal(router, deps)
        alert = service.update(
            principal,
            alert_id,
            direction=body.direction,
            threshold=body.threshold,
            enabled=body.enabled,
        )
        return AlertOut.of(alert)

    @router.delete("/api/v2/alerts/<alert_id>", tags=["alerts"])
    def delete_alert(alert_id: AlertId) -> AlertOut:
        return AlertOut.of(service.delete(current_principal(router, deps), alert_id))

    return router

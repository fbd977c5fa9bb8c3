"""Configuration routes: list (cached per user for 60 s), create, read, update, soft delete."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.openapi import created
from services.api.principal import current_principal
from services.api.schemas import (
    ConfigurationIn,
    ConfigurationList,
    ConfigurationOut,
    ConfigurationPatch,
    DeletedOut,
    deleted,
)

ConfigId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()
    service = deps.configurations
    cache = deps.configuration_lists

    @router.get("/api/v2/configurations", tags=["configurations"])
    def list_configurations() -> Response[ConfigurationList]:
        principal = current_principal(router, deps)
        user_id = principal.user.user_id
        configs, hit = cache.get_or_load(user_id, lambda: service.list(principal))
        body = ConfigurationList(
            configurations=[ConfigurationOut.of(c) for c in configs],
            max_allowed=service.max_allowed(principal),
        )
        return Response(200, content_types.APPLICATION_JSON, body,
                        headers={"X-Cache": "hit" if hit else "miss"})  # fmt: skip

    @router.post(
        "/api/v2/configurations", tags=["configurations"], responses=created(ConfigurationOut)
    )
    def create_configuration(body: ConfigurationIn) -> Response[ConfigurationOut]:
        principal = current_principal(router, deps)
        config = service.create(principal, body.name, body.tickers)
        cache.invalidate(principal.user.user_id)
        return Response(201, content_types.APPLICATION_JSON, ConfigurationOut.of(config))

    @router.get("/api/v2/configurations/<config_id>", tags=["configurations"])
    def get_configuration(config_id: ConfigId) -> ConfigurationOut:
        principal = current_principal(router, deps)
        return ConfigurationOut.of(service.get(principal, config_id))

    @router.patch("/api/v2/configurations/<config_id>", tags=["configurations"])
    def update_configuration(config_id: ConfigId, body: ConfigurationPatch) -> ConfigurationOut:
        principal = current_principal(router, deps)
        config = service.update(principal, config_id, name=body.name, tickers=body.tickers)
        cache.invalidate(principal.user.user_id)
        return ConfigurationOut.of(config)

    @router.delete("/api/v2/configurations/<config_id>", tags=["configurations"])
    def delete_configuration(config_id: ConfigId) -> DeletedOut:
        principal = current_principal(router, deps)
        config = service.delete(principal, config_id)
        cache.invalidate(principal.user.user_id)
        return deleted(config)

    return router

"""`GET /api/v2/ops/environments` (operator): the execution environments serving the API, as
the runtime knows them: each one's pid, cold start, requests served and whether it is busy.

Only a runtime that runs several environments side by side knows them all (the local stack's
pool); in AWS, Lambda keeps that to itself, so the route answers 501 there, and the answering
environment's own figures are in `/ops/caches` and `/ops/logs`.
"""

from __future__ import annotations

import os

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter
from pydantic import BaseModel, Field

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.operator import require_operator


class EnvironmentOut(BaseModel):
    pid: int
    cold_start_ms: float = Field(description="importing and building the function, once")
    registered_at: str
    requests_served: int
    busy: bool = Field(description="serving a request right now")


class EnvironmentsOut(BaseModel):
    answered_by: int = Field(description="the pid of the environment that answered")
    environments: list[EnvironmentOut]


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    @router.get("/api/v2/ops/environments", tags=["ops"])
    def environments() -> EnvironmentsOut:
        require_operator(router.current_event.headers, deps.settings)
        if deps.execution_environments is None:
            raise ApiError(
                501, "NOT_AVAILABLE", "this runtime does not list its execution environments"
            )
        listed = [EnvironmentOut(**e) for e in deps.execution_environments()]
        return EnvironmentsOut(answered_by=os.getpid(), environments=listed)

    return router

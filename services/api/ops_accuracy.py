"""`GET /api/v2/ops/accuracy?limit=` (operator): how well the pipeline scored the news it
ingested, against the known labels of the emulated headlines.

Only the local stack can answer it: the labelled headlines are the emulators', and they are
not shipped to Lambda. The stack hands the computation in (`ApiDependencies.live_accuracy`,
`services/local/live_accuracy.py`); without it the route is not registered at all, so it
answers 404 like any unknown path and is absent from the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter
from pydantic import BaseModel, Field

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.operator import require_operator
from services.api.ops_model import ClassFiguresOut

DEFAULT_LIMIT = 500
MAX_LIMIT = 2000


class CorpusOut(BaseModel):
    name: str
    description: str
    licence: str
    rows: int


class LiveAccuracyOut(BaseModel):
    limit: int
    articles_read: int = Field(description="analyzed articles read, newest first")
    n: int = Field(description="of those, the ones whose URL names a labelled headline")
    accuracy: float | None = Field(description="null while n is 0")
    macro_f1: float | None
    labels: list[str]
    per_class: dict[str, ClassFiguresOut]
    confusion: list[list[int]] = Field(
        description="rows: the headline's label, columns: the stored label, in `labels` order"
    )
    model_versions: dict[str, int] = Field(description="the versions that scored the n")
    analyzed_from: str | None
    analyzed_to: str | None
    corpus: CorpusOut
    note: str | None = Field(description="why there is no figure, when n is 0")


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()
    measure = deps.live_accuracy
    if measure is None:
        return router

    @router.get("/api/v2/ops/accuracy", tags=["ops"])
    def live_accuracy(
        # A string checked after the operator check, as `/ops/logs` does: the route says
        # nothing, not even what it accepts, to a caller without the token.
        limit: Annotated[
            str | None,
            Query(description=f"latest analyzed articles to read, 1 to {MAX_LIMIT}"),
        ] = None,
    ) -> LiveAccuracyOut:
        require_operator(router.current_event.headers, deps.settings)
        raw = (limit or str(DEFAULT_LIMIT)).strip()
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
            raise ApiError(
                400,
                "BAD_PARAMETER",
                f"limit must be a whole number from 1 to {MAX_LIMIT}",
                {"field": "limit"},
            )
        return LiveAccuracyOut.model_validate(measure(int(raw)))

    return router

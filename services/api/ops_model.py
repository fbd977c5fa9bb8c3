"""`GET /api/v2/ops/model` (operator): the model card, as `make model` wrote it.

The card is read once per process (`services/ops/model_card.py`) and checked against the
models below, which also describe it in the OpenAPI document. Fields the card adds later are
passed through; a card without one of these fields is a broken build, answered as such.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.api.dependencies import ApiDependencies
from services.api.operator import require_operator
from services.ops.model_card import ModelCardUnreadableError


class CardPart(BaseModel):
    # What a later card adds is kept in the answer rather than refused.
    model_config = ConfigDict(extra="allow")


class ClassFiguresOut(CardPart):
    precision: float
    recall: float
    f1: float
    support: int


class TierOut(CardPart):
    description: str
    version: str
    texts_per_s_one_core: float
    texts_per_s_all_cores: float
    share_answered: dict[str, float] = Field(
        description="of the texts this tier is given, the share each tier answers"
    )


class ReliabilityBinOut(CardPart):
    low: float
    high: float
    count: int
    confidence: float = Field(description="the bin's mean confidence")
    accuracy: float


class TierEvaluationOut(CardPart):
    n: int
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassFiguresOut]
    confusion: list[list[int]] = Field(
        description="rows: the true label, columns: the predicted one, in `labels` order"
    )
    labels: list[str]
    ece: float = Field(description="expected calibration error over the reliability bins")
    reliability: list[ReliabilityBinOut]


class EvaluationOut(CardPart):
    description: str
    licence: str
    by_tier: dict[str, TierEvaluationOut]


class TrainingFileOut(CardPart):
    file: str
    rows: int
    sha256: str
    licence: str


class FailureModeOut(CardPart):
    text: str
    truth: str
    predicted: str
    confidence: float
    tier: str


class ModelCardOut(CardPart):
    version: str
    default_tier: str
    generated_at: str
    tiers: dict[str, TierOut]
    evaluations: dict[str, EvaluationOut] = Field(description="by data set")
    training_data: list[TrainingFileOut]
    base_model: dict[str, Any]
    failure_modes: list[FailureModeOut]


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    @router.get("/api/v2/ops/model", tags=["ops"])
    def model_card() -> ModelCardOut:
        require_operator(router.current_event.headers, deps.settings)
        try:
            return ModelCardOut.model_validate(deps.model_card.read())
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            problem = f"the model card does not match its schema ({where}: {first['msg']})"
            raise ModelCardUnreadableError(problem) from None

    return router

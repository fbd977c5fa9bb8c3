"""`GET /api/v2/ops/model` and `GET /api/v2/ops/accuracy` in the real app, resolved in process:
the operator token first, then the parameter, the card read once (and a missing one said
plainly), the accuracy route only where a local stack hands its computation in."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver

from services.api.app import build_app
from services.composition.api import table_api_dependencies
from services.observability import get_logger
from services.settings import Settings
from services.store.sessions import token_hash
from tests.unit.resolve import resolve_get

pytestmark = pytest.mark.unit

OPERATOR = "operator-secret"
FIXTURE_CARD = Path(__file__).parents[2] / "fixtures" / "model_card.json"
FIGURES = {
    "limit": 500, "articles_read": 3, "n": 2, "accuracy": 0.5, "macro_f1": 0.3333,
    "labels": ["negative", "positive", "neutral"],
    "per_class": {label: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 1}
                  for label in ("negative", "positive", "neutral")},
    "confusion": [[1, 0, 0], [1, 0, 0], [0, 0, 0]],
    "model_versions": {"m1": 2},
    "analyzed_from": "2026-11-24T12:00:00.000000Z", "analyzed_to": "2026-11-24T12:01:00.000000Z",
    "corpus": {"name": "tfns-valid", "description": "d", "licence": "MIT", "rows": 2388},
    "note": None,
}  # fmt: skip


def make_app(
    card: Path, live_accuracy: Callable[[int], dict[str, Any]] | None = None
) -> LambdaFunctionUrlResolver:
    deps = table_api_dependencies(
        Settings(operator_token_sha256=token_hash(OPERATOR), rate_limit_enabled=False),
        model_card_path=card,
        live_accuracy=live_accuracy,
    )
    return build_app(deps, get_logger("ops-model-test", "WARNING"))


def call(
    app: LambdaFunctionUrlResolver, path: str, token: str | None = OPERATOR
) -> tuple[int, Any]:
    return resolve_get(app, path, token)


@pytest.fixture
def card(tmp_path: Path) -> Path:
    path = tmp_path / "card.json"
    shutil.copy(FIXTURE_CARD, path)
    return path


class Recorded:
    """The local stack's computation, standing in: what it was asked, what it answers."""

    def __init__(self) -> None:
        self.limits: list[int] = []

    def __call__(self, limit: int) -> dict[str, Any]:
        self.limits.append(limit)
        return {**FIGURES, "limit": limit}


# --- the model card --------------------------------------------------------------------------


def test_the_model_card_is_the_operators_and_answers_the_file(card: Path) -> None:
    app = make_app(card)
    assert call(app, "/api/v2/ops/model", token=None)[0] == 401
    status, body = call(app, "/api/v2/ops/model", token="someone-else")
    assert status == 401 and body["error"]["code"] == "UNAUTHORIZED"

    status, body = call(app, "/api/v2/ops/model")

    assert status == 200
    assert body == json.loads(FIXTURE_CARD.read_text())


def test_the_card_is_read_once_per_process(card: Path) -> None:
    app = make_app(card)
    first = call(app, "/api/v2/ops/model")[1]
    card.unlink()
    assert call(app, "/api/v2/ops/model") == (200, first)


def test_a_missing_card_is_a_404_saying_how_to_build_it_and_is_found_once_built(
    tmp_path: Path,
) -> None:
    path = tmp_path / "card.json"
    app = make_app(path)
    status, body = call(app, "/api/v2/ops/model")
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    assert body["error"]["message"] == "the model card has not been built: run `make model`"

    shutil.copy(FIXTURE_CARD, path)
    assert call(app, "/api/v2/ops/model")[0] == 200


def test_a_card_that_breaks_its_schema_is_said_to_be_broken(card: Path) -> None:
    broken = json.loads(card.read_text())
    del broken["tiers"]["linear"]["version"]
    card.write_text(json.dumps(broken))
    status, body = call(make_app(card), "/api/v2/ops/model")
    assert status == 500
    assert "tiers.linear.version" in body["error"]["message"]
    assert "make model" in body["error"]["message"]


def test_fields_a_later_card_adds_are_passed_through(card: Path) -> None:
    extended = {**json.loads(card.read_text()), "artifact_bytes": {"linear": 123}}
    card.write_text(json.dumps(extended))
    assert call(make_app(card), "/api/v2/ops/model")[1]["artifact_bytes"] == {"linear": 123}


def test_answering_the_card_loads_no_model_runtime(card: Path) -> None:
    # The dashboard function serves it: numpy, onnxruntime and the scorers stay out of it.
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from services.composition.api import table_api_dependencies\n"
        "from services.settings import Settings\n"
        f"card = table_api_dependencies(Settings(), model_card_path=Path({str(card)!r}))"
        ".model_card.read()\n"
        "from services.api.ops_model import ModelCardOut\n"
        "ModelCardOut.model_validate(card)\n"
        "heavy = ('numpy', 'onnxruntime', 'tokenizers', 'services.scoring.text_model',"
        " 'services.scoring.transformer')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(loaded.stdout) == []


# --- live accuracy ------------------------------------------------------------------------------


def test_without_a_local_stack_the_accuracy_route_does_not_exist(card: Path) -> None:
    app = make_app(card)
    status, body = call(app, "/api/v2/ops/accuracy")
    assert status == 404 and "no route" in body["error"]["message"]
    document = call(app, "/api/v2/openapi.json")[1]
    assert "/api/v2/ops/accuracy" not in document["paths"]
    assert "/api/v2/ops/model" in document["paths"]


def test_the_accuracy_route_asks_for_the_operator_before_anything(card: Path) -> None:
    measured = Recorded()
    app = make_app(card, measured)
    for path in ("/api/v2/ops/accuracy", "/api/v2/ops/accuracy?limit=0"):
        status, body = call(app, path, token=None)
        assert status == 401 and body["error"]["code"] == "UNAUTHORIZED"
    assert measured.limits == []


@pytest.mark.parametrize("limit", ["0", "2001", "-1", "abc", "1.5", "²", "99999999999"])
def test_a_limit_out_of_bounds_is_a_400_naming_it(card: Path, limit: str) -> None:
    measured = Recorded()
    status, body = call(make_app(card, measured), f"/api/v2/ops/accuracy?limit={limit}")
    assert status == 400 and body["error"]["code"] == "BAD_PARAMETER"
    assert body["error"]["details"] == {"field": "limit"}
    assert "1 to 2000" in body["error"]["message"]
    assert measured.limits == []


def test_the_figures_are_answered_for_the_limit_asked(card: Path) -> None:
    measured = Recorded()
    app = make_app(card, measured)
    assert call(app, "/api/v2/ops/accuracy") == (200, {**FIGURES, "limit": 500})
    assert call(app, "/api/v2/ops/accuracy?limit=2000")[1]["limit"] == 2000
    assert call(app, "/api/v2/ops/accuracy?limit=1")[0] == 200
    assert measured.limits == [500, 2000, 1]


def test_both_routes_are_in_the_document_with_their_answers(card: Path) -> None:
    document = call(make_app(card, Recorded()), "/api/v2/openapi.json")[1]
    accuracy = document["paths"]["/api/v2/ops/accuracy"]["get"]
    assert [p["name"] for p in accuracy["parameters"]] == ["limit"]
    assert {"200", "400", "401"} <= set(accuracy["responses"])
    schemas = document["components"]["schemas"]
    assert {"confusion", "per_class", "model_versions"} <= set(
        schemas["LiveAccuracyOut"]["properties"]
    )
    assert {"tiers", "evaluations", "failure_modes"} <= set(schemas["ModelCardOut"]["properties"])

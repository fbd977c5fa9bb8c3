"""The notebooks keep the project's notebook rules (STYLE.md): one `parameters` cell of
UPPER_CASE constants, no function or class defined in a cell, stored without outputs."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from services.local.paths import project_root

pytestmark = pytest.mark.unit

NOTEBOOKS = sorted((project_root() / "notebooks").glob("*.ipynb"))


def code_cells(path: Path) -> list[dict[str, object]]:
    document = json.loads(path.read_text())
    return [c for c in document["cells"] if c["cell_type"] == "code"]


def source(cell: dict[str, object]) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else str(text)


def tags(cell: dict[str, object]) -> list[str]:
    metadata = cell.get("metadata")
    return list(metadata.get("tags", [])) if isinstance(metadata, dict) else []


def test_there_are_notebooks() -> None:
    assert len(NOTEBOOKS) >= 6


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_parameters_cell_of_upper_case_constants(path: Path) -> None:
    tagged = [c for c in code_cells(path) if "parameters" in tags(c)]
    assert len(tagged) == 1
    tree = ast.parse(source(tagged[0]))
    assert tree.body, "the parameters cell is empty"
    for statement in tree.body:
        assert isinstance(statement, ast.Assign), ast.dump(statement)
        for target in statement.targets:
            assert isinstance(target, ast.Name) and target.id.isupper(), ast.dump(target)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_function_or_class_is_defined_in_a_cell(path: Path) -> None:
    for cell in code_cells(path):
        for node in ast.walk(ast.parse(source(cell))):
            assert not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ), source(cell)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_stored_without_outputs(path: Path) -> None:
    for cell in code_cells(path):
        assert cell.get("outputs") == [] and cell.get("execution_count") is None

"""The notebooks keep the project's notebook rules (STYLE.md): one `parameters` cell of
UPPER_CASE constants, no function or class defined in a cell, stored without outputs, the
setup one line calling `services.traffic.notebook.setup` (never a copy of what it does), no
code of more than one line copied between notebooks, and no name imported but unused."""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
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


# What `notebook.setup` does; a cell calling one of these is carrying the setup again.
SETUP_STEPS = {"extension", "connect", "attach", "start_embedded"}


def parsed(cell: dict[str, object]) -> ast.Module:
    return ast.parse(source(cell))


def calls_to(tree: ast.AST, names: set[str]) -> list[ast.Call]:
    """Calls of a function or method named one of `names` (`f(...)` or `x.f(...)`)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in names:
                found.append(node)
    return found


def calls_the_setup_helper(tree: ast.AST) -> bool:
    return any(
        isinstance(call.func, ast.Attribute)
        and isinstance(call.func.value, ast.Name)
        and call.func.value.id == "notebook"
        for call in calls_to(tree, {"setup"})
    )


def code_besides_imports(text: str) -> str:
    """A cell's code without its import statements, in one canonical spelling."""
    kept = [s for s in ast.parse(text).body if not isinstance(s, ast.Import | ast.ImportFrom)]
    return ast.unparse(ast.Module(body=kept, type_ignores=[]))


def shared_code(notebooks: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Code of more than one line (imports aside) found in more than one notebook: what each
    such cell holds, and the notebooks that hold it."""
    holders: defaultdict[str, set[str]] = defaultdict(set)
    for name, cells in notebooks.items():
        for text in cells:
            code = code_besides_imports(text)
            if "\n" in code:
                holders[code].add(name)
    return {code: sorted(names) for code, names in holders.items() if len(names) > 1}


def unused_imports(cells: Iterable[str]) -> set[str]:
    """Names a notebook imports (in any cell) and never reads (in any cell)."""
    imported: set[str] = set()
    read: set[str] = set()
    for text in cells:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                # `import a.b` binds `a`; `import a.b as c` and `from a import b as c` bind `c`.
                imported |= {(a.asname or a.name.split(".")[0]) for a in node.names}
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                read.add(node.id)
    return imported - read


def notebook_code(path: Path) -> list[str]:
    """The code cells a notebook runs besides its parameters."""
    return [source(c) for c in code_cells(path) if "parameters" not in tags(c)]


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_setup_is_one_line_calling_the_shared_helper(path: Path) -> None:
    setup_cells = [c for c in code_cells(path) if calls_the_setup_helper(parsed(c))]
    assert len(setup_cells) == 1, "one cell calls notebook.setup(...)"
    assert "\n" not in source(setup_cells[0]).strip(), source(setup_cells[0])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_cell_repeats_a_step_of_the_setup(path: Path) -> None:
    for cell in code_cells(path):
        tree = parsed(cell)
        assert not calls_to(tree, SETUP_STEPS), source(cell)
        recorded = [c.args[0] for c in calls_to(tree, {"record"}) if c.args]
        assert not any(isinstance(a, ast.Constant) and a.value == "stack" for a in recorded)


def test_no_two_notebooks_carry_the_same_setup_code() -> None:
    copied = shared_code({path.stem: notebook_code(path) for path in NOTEBOOKS})

    assert not copied, "\n\n".join(f"{names}:\n{code}" for code, names in copied.items())


def test_a_setup_cell_copied_into_two_notebooks_is_found() -> None:
    copied_setup = (
        "import holoviews as hv\n"
        "from services.traffic import notebook\n"
        'hv.extension("bokeh", inline=True)\n'
        "stack = notebook.connect(STACK, http_timeout_s=HTTP_TIMEOUT_S)\n"
    )
    one_line = "stack = notebook.setup(STACK, OPEN_TIMEOUT_S, HTTP_TIMEOUT_S, WATCHLIST)"

    found = shared_code({"a": [copied_setup, one_line], "b": [copied_setup, one_line], "c": []})

    assert list(found.values()) == [["a", "b"]]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_imported_name_is_used(path: Path) -> None:
    assert unused_imports(notebook_code(path)) == set()


def test_an_import_never_read_is_found() -> None:
    cells = [
        "import holoviews as hv\nimport pandas as pd\nimport os.path\nfrom a import b as c",
        "pd.DataFrame()\nos.path.join(c)",
    ]

    assert unused_imports(cells) == {"hv"}

"""No function outside the tests runs over 60 lines unless docs/architecture.md says why.

The count runs from a function's `def` line to its last line, so nested functions count in
their parent's length too. The exceptions are the entries of the "Long functions" section of
docs/architecture.md (``- `path::Qualified.name`: why``), read here, so the docs and this
test cannot disagree."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

MAX_LINES = 60
CHECKED = ("services", "workbench", "infrastructure")
ARCHITECTURE = Path("docs") / "architecture.md"
SECTION = "## Long functions"
ENTRY = re.compile(r"^- `(?P<path>[^`:]+)::(?P<name>[^`]+)`:?(?P<reason>.*)$")

Function = ast.FunctionDef | ast.AsyncFunctionDef


def functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, Function]]:
    """Every function of a module, nested ones included, by qualified name (`Class.method`,
    `outer.inner`)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                yield name, node
            yield from functions(node, f"{name}.")
        else:
            yield from functions(node, prefix)


def lines_of(node: Function) -> int:
    assert node.end_lineno is not None
    return node.end_lineno - node.lineno + 1


def long_functions(root: Path) -> dict[str, int]:
    """`path::name` of every function over MAX_LINES in the checked folders, with its length."""
    found = {}
    for folder in CHECKED:
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            for name, node in functions(ast.parse(path.read_text(), filename=relative)):
                if lines_of(node) > MAX_LINES:
                    found[f"{relative}::{name}"] = lines_of(node)
    return found


def allowed(text: str) -> dict[str, str]:
    """The "Long functions" section's entries: `path::name` and the reason given for each."""
    _, found, rest = text.partition(f"\n{SECTION}\n")
    assert found, f"{ARCHITECTURE} has no {SECTION!r} section"
    section = re.split(r"\n#{1,2} ", rest, maxsplit=1)[0]
    entries = {}
    for line in section.splitlines():
        match = ENTRY.match(line)
        if match:
            entries[f"{match['path']}::{match['name']}"] = match["reason"].strip()
    return entries


def test_every_function_over_the_limit_is_listed_with_its_reason(root: Path) -> None:
    exceptions = allowed((root / ARCHITECTURE).read_text())
    unlisted = {
        name: length for name, length in long_functions(root).items() if name not in exceptions
    }

    assert not unlisted, (
        f"over {MAX_LINES} lines: split them, or list them with a reason under "
        f"{SECTION!r} in {ARCHITECTURE}:\n"
        + "\n".join(f"  {length} {name}" for name, length in sorted(unlisted.items()))
    )


def test_every_listed_exception_gives_a_reason_and_is_still_long(root: Path) -> None:
    exceptions = allowed((root / ARCHITECTURE).read_text())
    long = long_functions(root)

    assert not [name for name, reason in exceptions.items() if not reason], "entries without why"
    assert not [name for name in exceptions if name not in long], "entries no longer long"


def test_the_section_is_read_entry_by_entry_up_to_the_next_heading() -> None:
    text = (
        "# Map\n\n## Long functions\n\nWhy the rule holds, and as ``- `a::b`: why`` the form.\n"
        "- `services/x.py::Builder.build`: a table of data\n"
        "- `services/y.py::main`\n"
        "\n## After\n\n- `services/z.py::later`: not this section's\n"
    )

    assert allowed(text) == {
        "services/x.py::Builder.build": "a table of data",
        "services/y.py::main": "",
    }


def test_nested_functions_and_methods_are_named_and_counted_in_their_parent() -> None:
    tree = ast.parse(
        "class A:\n    def m(self):\n        def inner():\n            pass\n        return 1\n"
        "async def f():\n    pass\n"
    )

    assert {name: lines_of(node) for name, node in functions(tree)} == {
        "A.m": 4,
        "A.m.inner": 2,
        "f": 2,
    }

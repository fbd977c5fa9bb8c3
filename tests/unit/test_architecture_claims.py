"""The claims of docs/architecture.md about who touches boto3, who wires and who maps errors,
checked by walking the sources' imports and calls, so the map cannot drift from the code."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.packaging.closure import import_closure

pytestmark = pytest.mark.unit

# Who may import boto3 or botocore, as the "Three faces" section says.
BOTO3_IMPORTERS = {
    "services/composition/providers.py",
    "services/secrets.py",
    "services/local/dynamodb_local.py",
}
BOTO3_PACKAGES = ("services/store/",)
# Who may build a DynamoDB repository: the composition root, the store itself, and the
# embedded runtime for what only it has.
WIRERS = ("services/composition/", "services/store/", "services/local/")
# Where exceptions become HTTP answers.
ERROR_MAPPERS = {"services/api/app.py", "services/api/error_map.py"}


def sources(root: Path, *folders: str) -> Iterator[tuple[str, ast.Module]]:
    for folder in folders:
        for path in sorted((root / folder).rglob("*.py")):
            yield path.relative_to(root).as_posix(), ast.parse(path.read_text())


def imported_modules(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def called_names(tree: ast.Module) -> set[str]:
    return {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }


def test_only_the_store_the_providers_and_the_secrets_import_boto3(root: Path) -> None:
    importers = {
        name
        for name, tree in sources(root, "services", "workbench")
        if any(m.split(".")[0] in ("boto3", "botocore") for m in imported_modules(tree))
    }

    outside = {n for n in importers if not n.startswith(BOTO3_PACKAGES)}

    assert outside == BOTO3_IMPORTERS


def test_repositories_are_built_only_by_the_composition_root(root: Path) -> None:
    builders = {
        name
        for name, tree in sources(root, "services", "workbench")
        if not name.startswith(WIRERS)
        and any(n.startswith("Dynamo") and n != "DynamoDBLocal" for n in called_names(tree))
    }

    assert not builders, f"modules building DynamoDB repositories themselves: {sorted(builders)}"


def test_routes_and_handlers_build_no_http_client(root: Path) -> None:
    # The providers' clients come from services/composition/providers.py, so a test or the
    # local stack can hand in its own transport.
    builders = {
        name
        for name, tree in sources(root, "services/api", "services/functions")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "httpx"
        and node.func.attr in ("Client", "AsyncClient")
    }

    assert not builders, f"modules building HTTP clients themselves: {sorted(builders)}"


def test_every_handler_takes_its_dependencies_and_builds_them_in_the_composition_root(
    root: Path,
) -> None:
    for name, tree in sources(root, "services/functions"):
        handlers = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "handler"]
        if not handlers:
            continue
        arguments = [a.arg for a in handlers[0].args.args]
        assert arguments[2:] == ["deps"], f"{name}: handler(event, context, deps=None)"
        assert handlers[0].args.defaults and isinstance(
            handlers[0].args.defaults[-1], ast.Constant
        ), f"{name}: deps defaults to None"
        stores = {m for m in imported_modules(tree) if m.startswith("services.store")}
        assert not stores, f"{name} imports the store itself: {sorted(stores)}"


def test_exceptions_become_http_answers_in_the_error_map_only(root: Path) -> None:
    for name, tree in sources(root, "services/api"):
        if name in ERROR_MAPPERS:
            continue
        for node in ast.walk(tree):
            registers = (
                isinstance(node, ast.Attribute)
                and node.attr == "exception_handler"
                and isinstance(node.ctx, ast.Load)
            )
            assert not registers, f"{name} registers an exception handler"
            if isinstance(node, ast.ExceptHandler):
                translated = any(
                    isinstance(inner, ast.Raise)
                    and isinstance(inner.exc, ast.Call)
                    and getattr(inner.exc.func, "id", None) == "ApiError"
                    for inner in ast.walk(node)
                )
                assert not translated, f"{name}:{node.lineno} translates an error to HTTP"


def test_the_packages_said_to_run_in_lambda_are_the_handlers_import_closure(root: Path) -> None:
    documented = (root / "docs" / "architecture.md").read_text()
    row = next(line for line in documented.splitlines() if line.startswith("| Lambda ("))
    said = set(re.findall(r"`(\w+)`", row.split("|")[2])) - {"training"}
    handlers = [f"services.functions.{p.stem}" for p in (root / "services/functions").glob("*.py")]
    closure = import_closure(root, [h for h in handlers if not h.endswith("__init__")])
    packages = {
        module.split(".")[1]
        for module in closure.modules
        if module.count(".") >= 1 and (root / "services" / module.split(".")[1]).is_dir()
    }

    assert said == packages

"""The import closure of the Lambda handlers: the project modules a function can import.

The artifact carries these modules and nothing else of the project. The closure is read from
the sources (an `ast` walk, nothing is imported), starting at each handler's module and
following every `import x` and `from x import y` that names a module of the repository:
at module level and inside functions alike, since a deferred import still runs in AWS. An
import under `if TYPE_CHECKING:` is skipped: it never runs. Importing `a.b.c` also runs
`a/__init__.py` and `a/b/__init__.py`, so parent packages join the closure too.

Each module remembers the module that first pulled it in (breadth first, so the chain back
to a handler is a shortest one): when a package that must not ship is reached, the error
names the whole chain.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# The one package whose modules the functions may import; everything else of the repository
# (workbench/, infrastructure/, tests/) stays out of the artifacts.
SHIPPED_PACKAGE = "services"

# Project packages no function may import, and why: none of them is meant to run in AWS.
FORBIDDEN_PACKAGES: dict[str, str] = {
    "services.analytics": "offline analysis on pandas, which is not a runtime dependency",
    "services.costs": "the cost model the workbench and notebooks read",
    "services.traffic": "the traffic generator, a client of the API",
    "services.local": "the embedded local runtime and its emulators",
    "services.scoring.training": "the models' training code (scikit-learn, torch)",
}


def handler_module(function: str) -> str:
    """The module of a function's Lambda handler (Terraform: `<module>.handler`)."""
    return f"{SHIPPED_PACKAGE}.functions.{function}"


class ForbiddenImportError(RuntimeError):
    """A handler's import closure reaches a package that must not ship."""


@dataclass(frozen=True)
class ImportClosure:
    """Module name -> its source file, and module name -> the module that first imported it
    (None for an entry point)."""

    files: dict[str, Path]
    imported_by: dict[str, str | None]

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(sorted(self.files))

    def chain(self, module: str) -> list[str]:
        """The import chain from an entry point down to `module`."""
        chain = [module]
        while (parent := self.imported_by[chain[-1]]) is not None:
            chain.append(parent)
        return chain[::-1]


def module_file(root: Path, module: str) -> Path | None:
    """The source file of a module of the repository, or None for anything else."""
    base = root.joinpath(*module.split("."))
    package = base / "__init__.py"
    if package.is_file():
        return package
    plain = base.with_suffix(".py")
    return plain if plain.is_file() else None


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _runtime_nodes(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node under `nodes`, less the bodies of `if TYPE_CHECKING:` (their `else` stays)."""
    # A stack of nodes still to visit, next on top: source order, without recursion.
    pending = list(reversed(list(nodes)))
    while pending:
        node = pending.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            pending += reversed(node.orelse)
        else:
            pending += reversed(list(ast.iter_child_nodes(node)))


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The module a `from ... import` names, relative levels resolved against `module`."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported_names(module: str, path: Path) -> list[str]:
    """Every name an import of `module` may load at run time, in source order: `from a
    import b` gives `a` and `a.b` (b may be a submodule)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in _runtime_nodes(tree.body):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, path.name == "__init__.py", node)
            names += [source, *(f"{source}.{alias.name}" for alias in node.names)]
    return names


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:end]) for end in range(1, len(parts) + 1)]


def import_closure(root: Path, entry_points: Sequence[str]) -> ImportClosure:
    """The modules of the repository that `entry_points` import, directly or not."""
    files: dict[str, Path] = {}
    imported_by: dict[str, str | None] = {}
    queue: deque[str] = deque()

    def reach(name: str, importer: str | None) -> None:
        for candidate in _with_parents(name):
            path = module_file(root, candidate)
            if path is not None and candidate not in files:
                files[candidate], imported_by[candidate] = path, importer
                queue.append(candidate)

    for entry in entry_points:
        if module_file(root, entry) is None:
            raise FileNotFoundError(f"no module {entry} under {root}: a handler is missing")
        # An entry point and its parent packages are imported by the runtime itself.
        reach(entry, None)
    while queue:
        module = queue.popleft()
        for name in imported_names(module, files[module]):
            reach(name, module)
    return ImportClosure(files=files, imported_by=imported_by)


def _refusal(module: str) -> str | None:
    """Why `module` must not ship, or None when it may."""
    for package, reason in FORBIDDEN_PACKAGES.items():
        if module == package or module.startswith(package + "."):
            return f"{package} ({reason})"
    if module != SHIPPED_PACKAGE and not module.startswith(SHIPPED_PACKAGE + "."):
        return f"{module.split('.')[0]} (only {SHIPPED_PACKAGE}/ ships to Lambda)"
    return None


def check_closure(closure: ImportClosure, artifact: str) -> None:
    """Raise ForbiddenImportError naming, for each package that must not ship, the import
    chain that pulled it into the closure."""
    chains: dict[str, list[str]] = {}
    for module in closure.modules:
        refusal = _refusal(module)
        if refusal is not None and refusal not in chains:
            chains[refusal] = closure.chain(module)
    if chains:
        lines = [f"  {refusal}: {' -> '.join(chain)}" for refusal, chain in chains.items()]
        raise ForbiddenImportError(
            f"{artifact}: the handlers' imports reach packages that must not ship to Lambda "
            "(break the import in the chain, or move the code it needs out of the package):\n"
            + "\n".join(lines)
        )

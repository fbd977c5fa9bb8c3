"""The Terraform of the repository and the cost model, for the Infrastructure section.

Read from `infrastructure/terraform/` (the modules and each environment's terraform.tfvars)
and computed with `services.costs`; nothing here calls the API or AWS.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import hcl2
import param

from services.costs import SEED_DEV, CostBreakdown, UsageAssumptions, cost_grid, monthly_cost

ENVIRONMENTS = ("dev", "preprod", "prod")
# The parity table's rows, as terraform.tfvars names them.
PARITY_ROWS = {
    "point_in_time_recovery": "Point-in-Time Recovery",
    "daily_backups": "Daily Backups",
    "amplify_hosting": "Amplify Hosting",
    "deletion_protection": "Deletion protection",
    "log_retention_days": "Log retention (days)",
}
GROWTH_USERS = (10, 100, 1_000, 10_000)


@dataclass(frozen=True)
class TerraformModule:
    name: str
    summary: str
    resources: tuple[str, ...]


def _unquote(value: Any) -> Any:
    # python-hcl2 8.x keeps the quotes of string literals.
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _first_comment(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").strip())
    return " ".join(lines)


def _parsed(path: Path) -> dict[str, Any]:
    """A Terraform file, parsed once per version of it: every page opened reads the modules,
    and parsing HCL takes tens of milliseconds a file."""
    return _parsed_version(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _parsed_version(path: Path, mtime_ns: int) -> dict[str, Any]:
    with path.open() as handle:
        parsed: dict[str, Any] = hcl2.load(handle)
    return parsed


def read_modules(terraform_dir: Path) -> list[TerraformModule]:
    """Each module: its name, its leading comment, the resource types it declares."""
    found = []
    for directory in sorted((terraform_dir / "modules").iterdir()):
        main = directory / "main.tf"
        if not main.is_file():
            continue
        parsed = _parsed(main)
        types = sorted({_unquote(t) for block in parsed.get("resource", []) for t in block})
        found.append(
            TerraformModule(directory.name, _first_comment(main.read_text()), tuple(types))
        )
    return found


def read_parity(terraform_dir: Path) -> dict[str, dict[str, Any]]:
    """Environment -> its parity values from terraform.tfvars."""
    table: dict[str, dict[str, Any]] = {}
    for env in ENVIRONMENTS:
        path = terraform_dir / "envs" / env / "terraform.tfvars"
        if not path.is_file():
            continue
        values = {k: _unquote(v) for k, v in _parsed(path).items()}
        table[env] = {key: values.get(key) for key in PARITY_ROWS}
    return table


class InfrastructureStore(param.Parameterized):
    """The modules, the parity table and the cost model under the users/tickers knobs."""

    users = param.Integer(default=SEED_DEV.users, bounds=(1, 100_000))
    tickers = param.Integer(default=SEED_DEV.tickers, bounds=(1, 1_000))
    modules = param.List(default=[], item_type=TerraformModule)
    parity = param.Dict(default={})
    error = param.String(default="")

    def __init__(
        self, terraform_dir: Path, base: UsageAssumptions = SEED_DEV, **params: Any
    ) -> None:
        super().__init__(**params)
        self.terraform_dir = terraform_dir
        self.base = base
        self.load()

    def load(self) -> None:
        try:
            self.param.update(
                modules=read_modules(self.terraform_dir),
                parity=read_parity(self.terraform_dir),
                error="",
            )
        except (OSError, ValueError) as problem:
            self.param.update(modules=[], parity={}, error=f"{type(problem).__name__}: {problem}")

    @property
    def assumptions(self) -> UsageAssumptions:
        return replace(self.base, users=self.users, tickers=self.tickers)

    def breakdown(self) -> CostBreakdown:
        return monthly_cost(self.assumptions)

    def growth(self) -> dict[int, float]:
        """Total per month at several user counts, at the current number of tickers."""
        points = cost_grid(self.base, GROWTH_USERS, [self.tickers])
        return {point.users: point.total_usd for point in points}

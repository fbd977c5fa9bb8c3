"""The Infrastructure section: modules and parity read from the Terraform, the cost knobs."""

from __future__ import annotations

from pathlib import Path

import panel as pn
import pytest

from services.costs import SEED_DEV, monthly_cost
from workbench.components.infrastructure import InfrastructurePanel
from workbench.stores.infrastructure import InfrastructureStore, read_modules, read_parity

pytestmark = pytest.mark.unit


@pytest.fixture
def terraform_dir(root: Path) -> Path:
    return root / "infrastructure" / "terraform"


def test_store_reads_every_module_and_the_parity_rows(terraform_dir: Path) -> None:
    modules = {m.name: m for m in read_modules(terraform_dir)}
    assert set(modules) == {
        "amplify", "cognito", "dynamodb", "eventbridge", "iam", "lambda", "secrets", "sns",
    }  # fmt: skip
    assert "aws_dynamodb_table" in modules["dynamodb"].resources
    assert modules["dynamodb"].summary.startswith("The single table")
    parity = read_parity(terraform_dir)
    assert parity["dev"]["point_in_time_recovery"] is False
    assert parity["prod"]["daily_backups"] is True
    assert parity["preprod"]["amplify_hosting"] is True


def test_panel_shows_modules_parity_and_the_seed_cost(terraform_dir: Path) -> None:
    panel = InfrastructurePanel(store=InfrastructureStore(terraform_dir))
    assert isinstance(panel.__panel__(), pn.Column)
    assert "| `iam` |" in panel.modules_markdown()
    parity = panel.parity_markdown()
    assert "| Point-in-Time Recovery | ✗ no | ✓ yes | ✓ yes |" in parity
    assert "| Amplify Hosting | ✗ no | ✓ yes | ✓ yes |" in parity
    expected = f"${monthly_cost(SEED_DEV).total_usd:,.2f} per month"
    assert expected in panel.cost_markdown()


def test_sliders_drive_the_cost(terraform_dir: Path) -> None:
    # Given the panel, When the users slider moves to 5,000, Then the total follows the model.
    store = InfrastructureStore(terraform_dir)
    panel = InfrastructurePanel(store=store)
    before = panel.cost_markdown()
    panel._users.value = 5_000
    assert store.users == 5_000
    after = panel.cost_markdown()
    assert after != before and "5,000 users" in after
    assert f"${store.breakdown().total_usd:,.2f} per month" in after
    panel._tickers.value = 100
    assert "at 100 tickers" in panel.growth_markdown()


def test_missing_terraform_is_reported_not_raised(tmp_path: Path) -> None:
    panel = InfrastructurePanel(store=InfrastructureStore(tmp_path / "absent"))
    assert "Terraform not readable" in panel.modules_markdown()

"""The Infrastructure section: Terraform modules, environment parity, and the cost model."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from services.costs import SEED_DEV_ESTIMATE_USD
from workbench.components.format import md_code
from workbench.stores.infrastructure import ENVIRONMENTS, PARITY_ROWS, InfrastructureStore


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        # Marks every font has (no emoji font is needed to read the table).
        return "✓ yes" if value else "✗ no"
    return "?" if value is None else str(value)


class InfrastructurePanel(Viewer):
    """What `infrastructure/terraform/` declares and what an environment costs a month."""

    store: InfrastructureStore = param.ClassSelector(class_=InfrastructureStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._users = pn.widgets.IntSlider.from_param(
            self.store.param.users, name="Users", start=1, end=10_000, step=10
        )
        self._tickers = pn.widgets.IntSlider.from_param(
            self.store.param.tickers, name="Tickers", start=1, end=500
        )

    @param.depends("store.modules", "store.error")
    def modules_markdown(self) -> str:
        if self.store.error:
            return f"**Terraform not readable:** {md_code(self.store.error)}"
        rows = ["| module | what it holds | resources |", "|---|---|---|"]
        for module in self.store.modules:
            resources = ", ".join(f"`{r}`" for r in module.resources)
            rows.append(f"| `{module.name}` | {module.summary} | {resources} |")
        return "\n".join(rows)

    @param.depends("store.parity")
    def parity_markdown(self) -> str:
        envs = [env for env in ENVIRONMENTS if env in self.store.parity]
        rows = [
            "| feature | " + " | ".join(envs) + " |",
            "|---|" + "---|" * len(envs),
            "| DynamoDB | " + " | ".join("✓ yes" for _ in envs) + " |",
        ]
        for key, label in PARITY_ROWS.items():
            cells = " | ".join(_cell(self.store.parity[env].get(key)) for env in envs)
            rows.append(f"| {label} | {cells} |")
        return "\n".join(rows)

    @param.depends("store.users", "store.tickers")
    def cost_markdown(self) -> str:
        breakdown = self.store.breakdown()
        rows = [
            f"**${breakdown.total_usd:,.2f} per month** for {self.store.users:,} users and "
            f"{self.store.tickers:,} tickers (the seed's dev estimate: about "
            f"${SEED_DEV_ESTIMATE_USD:.2f}).",
            "",
            "| service | item | quantity | unit | USD / month |",
            "|---|---|---:|---|---:|",
        ]
        for line in breakdown.lines:
            rows.append(
                f"| {line.service} | {line.item} | {line.quantity:,.1f} | {line.unit} "
                f"| {line.cost_usd:,.3f} |"
            )
        return "\n".join(rows)

    @param.depends("store.tickers")
    def growth_markdown(self) -> str:
        growth = self.store.growth()
        header = " | ".join(f"{users:,} users" for users in growth)
        values = " | ".join(f"${total:,.2f}" for total in growth.values())
        return (
            f"**Growth** at {self.store.tickers:,} tickers (everything else as assumed):\n\n"
            f"| {header} |\n|" + "---:|" * len(growth) + f"\n| {values} |"
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "## Infrastructure",
            "Terraform-managed AWS serverless stack, read from `infrastructure/terraform/`.",
            "### Terraform modules",
            pn.pane.Markdown(self.modules_markdown, sizing_mode="stretch_width"),
            "### Environment parity (each environment's `terraform.tfvars`)",
            pn.pane.Markdown(self.parity_markdown, sizing_mode="stretch_width"),
            "### Monthly cost (`services.costs`, us-east-1 public prices, always-free tier)",
            pn.Row(self._users, self._tickers),
            pn.pane.Markdown(self.growth_markdown, sizing_mode="stretch_width"),
            pn.pane.Markdown(self.cost_markdown, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

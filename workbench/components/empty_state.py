"""An empty answer said plainly: why there is nothing, and a button that does something about it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.components.format import md_text
from workbench.stores.empty import EmptyState

Fix = Callable[[], Awaitable[None]]


class EmptyNotice(Viewer):
    state: EmptyState = param.ClassSelector(class_=EmptyState)  # type: ignore[assignment]

    def __init__(self, fix: Fix, **params: Any) -> None:
        super().__init__(**params)
        self._fix = fix
        self.button = pn.widgets.Button(label="", color="primary", visible=False)
        self.button.on_click(self._clicked)
        self.state.param.watch(self._show_button, ["action", "busy"])
        self._show_button()

    def _show_button(self, *_: Any) -> None:
        self.button.param.update(
            label=self.state.action_label or "-",
            visible=bool(self.state.action),
            disabled=self.state.busy,
        )

    async def _clicked(self, _: Any) -> None:
        await self._fix()

    @param.depends("state.reason", "state.outcome")
    def message(self) -> str:
        if not self.state.reason:
            return ""
        outcome = f"\n\n<small>{md_text(self.state.outcome)}</small>" if self.state.outcome else ""
        return f"**{md_text(self.state.reason)}**{outcome}"

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Row(
            pn.pane.Markdown(self.message, sizing_mode="stretch_width"),
            self.button,
            sizing_mode="stretch_width",
        )

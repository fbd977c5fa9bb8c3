"""The sidebar's list of sections, grouped as the Deep Dive groups them, and the crumb that
names the section in view."""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.stores.sections import GROUPS, LABELS, Navigation

_GROUP_OF = {section.id: title for title, members in GROUPS for section in members}
CRUMB_CSS = """
.crumb { font-size: 0.85rem; opacity: 0.75; }
.crumb strong { opacity: 1; }
"""


class SectionMenu(Viewer):
    navigation: Navigation = param.ClassSelector(class_=Navigation)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        # One button group per group of sections; the section in view is the one pressed
        # button of the whole list (the other groups show none pressed).
        self.groups = [
            pn.widgets.RadioButtonGroup(
                options={section.label: section.id for section in members},
                orientation="vertical",
                # Outline buttons read well on both themes ("light" ones glare on the dark one).
                color="primary",
                variant="outline",
                sizing_mode="stretch_width",
                margin=(0, 5, 10, 5),
            )
            for _, members in GROUPS
        ]
        self._show(self.navigation.section)
        for group in self.groups:
            group.param.watch(self._choose, "value")
        self.navigation.param.watch(lambda event: self._show(event.new), "section")

    def _choose(self, event: param.parameterized.Event) -> None:
        if event.new is not None:
            self.navigation.go(event.new)

    def _show(self, section: str) -> None:
        for group in self.groups:
            group.value = section if section in group.options.values() else None

    @param.depends("navigation.section")
    def crumb(self) -> str:
        section = self.navigation.section
        return (
            f'<div class="crumb" data-section="{html.escape(section)}">'
            f"{html.escape(_GROUP_OF[section])} &rsaquo; <strong>{html.escape(LABELS[section])}"
            "</strong></div>"
        )

    def __panel__(self) -> pn.viewable.Viewable:
        items: list[Any] = []
        for (title, _), group in zip(GROUPS, self.groups, strict=True):
            items += [pn.pane.Markdown(f"**{html.escape(title)}**", margin=(0, 5)), group]
        return pn.Column(*items, sizing_mode="stretch_width")

"""The interview tour's card: the step counter, the talking points and Previous / Next, shown
above the section whose live figures back them."""

from __future__ import annotations

import html
from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.stores.tour import TourStore

CARD_CSS = """
:host { border: 1px solid rgba(13, 110, 253, 0.45); border-radius: 6px; padding: 4px 10px; }
"""


class TourCard(Viewer):
    store: TourStore = param.ClassSelector(class_=TourStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.previous_button = pn.widgets.Button(label="Previous", width=100)
        self.next_button = pn.widgets.Button(label="Next", color="primary", width=100)
        self.end_button = pn.widgets.Button(label="End the tour", width=120)
        self.previous_button.on_click(lambda _: self.store.previous())
        self.next_button.on_click(lambda _: self.store.next())
        self.end_button.on_click(lambda _: self.store.end())
        self._enable()
        self.store.param.watch(lambda _: self._enable(), "step")
        self.card = pn.Column(
            pn.Row(
                pn.pane.HTML(self.counter, margin=(12, 10)),
                self.previous_button,
                self.next_button,
                self.end_button,
            ),
            pn.pane.Markdown(self.points, disable_math=True, sizing_mode="stretch_width"),
            stylesheets=[CARD_CSS],
            sizing_mode="stretch_width",
            margin=(5, 5, 15, 5),
        )

    def _enable(self) -> None:
        self.previous_button.disabled = self.store.step == 0
        self.next_button.disabled = self.store.step == self.store.total - 1

    @param.depends("store.step", "store.timer.elapsed_s", "store.timer.running")
    def counter(self) -> str:
        timer = self.store.timer
        clock = f"{timer.display} {'running' if timer.running else 'paused'}"
        return (
            f'<div data-tour-step="{self.store.step + 1}">'
            f"<strong>Step {self.store.step + 1} of {self.store.total}</strong>"
            f" · timer {html.escape(clock)}</div>"
        )

    @param.depends("store.step")
    def points(self) -> str:
        step = self.store.current
        # The talking points are the project's own text (workbench/tour.py), not user input.
        bullets = "\n".join(f"- {bullet}" for bullet in step.bullets)
        return f"### {step.title}\n\n{bullets}"

    @param.depends("store.active")
    def shown(self) -> pn.viewable.Viewable:
        # Out of the page when the tour is off: its text must not stand in for a section's.
        return self.card if self.store.active else pn.Spacer(height=0)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self.shown, sizing_mode="stretch_width")

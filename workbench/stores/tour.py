"""The interview tour's state: on or off, which step, kept in step with the section in view.

Starting the tour starts the interview timer. The sidebar and the browser's back button stay
usable during the tour: choosing a section that is a step moves the tour to that step, and
choosing one that is not leaves the tour.
"""

from __future__ import annotations

from typing import Any

import param

from workbench.stores.sections import Navigation
from workbench.stores.timer import TimerStore
from workbench.tour import TOUR, TourStep

_STEP_OF = {step.section: index for index, step in enumerate(TOUR)}


class TourStore(param.Parameterized):
    active = param.Boolean(default=False, doc="the tour is on")
    step = param.Integer(default=0, bounds=(0, len(TOUR) - 1), doc="index of the step shown")

    def __init__(self, navigation: Navigation, timer: TimerStore, **params: Any) -> None:
        super().__init__(**params)
        self.navigation = navigation
        self.timer = timer
        navigation.param.watch(self._follow_section, "section")

    @property
    def current(self) -> TourStep:
        return TOUR[self.step]

    @property
    def total(self) -> int:
        return len(TOUR)

    def start(self, at: str | None = None) -> None:
        """From the first step, or from the step of section `at` (a link into the tour)."""
        self.timer.start()
        step = _STEP_OF.get(at or "", 0)
        self.param.update(active=True, step=step)
        self.navigation.section = TOUR[step].section

    def end(self) -> None:
        self.active = False

    def next(self) -> None:
        self._go(self.step + 1)

    def previous(self) -> None:
        self._go(self.step - 1)

    def _go(self, step: int) -> None:
        step = min(max(step, 0), len(TOUR) - 1)
        self.step = step
        self.navigation.section = TOUR[step].section

    def _follow_section(self, event: param.parameterized.Event) -> None:
        if not self.active:
            return
        if event.new in _STEP_OF:
            self.step = _STEP_OF[event.new]
        else:
            self.active = False

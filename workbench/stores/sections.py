"""The page's sections, which one is in view, and refreshing only that one.

A section has a short stable id (the `?section=` of a deep link) and a label (its entry in the
sidebar); the groups follow the Deep Dive's order, so the sidebar reads as the tour does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import param

Refresh = Callable[[], Awaitable[None]]


def once(action: Callable[[], Awaitable[object]]) -> Refresh:
    """`action` on a section's first view only: later views leave the section to its
    controls (a default must not undo what the user did since, such as signing out)."""
    done = False

    async def first() -> None:
        nonlocal done
        if not done:
            done = True
            await action()

    return first


@dataclass(frozen=True)
class Section:
    id: str
    label: str


# Each group's title, then its sections' ids and labels, in the sidebar's order.
_LAYOUT: dict[str, dict[str, str]] = {
    "Overview & architecture": {"overview": "Overview", "architecture": "Architecture"},
    "Auth & configurations": {
        "authentication": "Authentication",
        "configurations": "Configurations",
    },
    "Sentiment & prices": {
        "sentiment": "Sentiment",
        "prices": "Price & Sentiment",
        "analytics": "Analytics",
        "model": "Model & Accuracy",
    },
    "External APIs, circuits, quotas": {
        "external-apis": "External APIs",
        "circuits": "Circuit Breakers",
    },
    "Traffic & chaos": {"traffic": "Traffic Generator", "chaos": "Chaos"},
    "Caching & observability": {
        "caching": "Caching",
        "observability": "Observability",
        "health": "Health Check",
    },
    "Testing & infrastructure": {"testing": "Testing", "infrastructure": "Infrastructure"},
}
GROUPS: tuple[tuple[str, tuple[Section, ...]], ...] = tuple(
    (title, tuple(Section(section_id, label) for section_id, label in members.items()))
    for title, members in _LAYOUT.items()
)
SECTIONS: tuple[Section, ...] = tuple(section for _, members in GROUPS for section in members)
SECTION_IDS: tuple[str, ...] = tuple(section.id for section in SECTIONS)
LABELS: dict[str, str] = {section.id: section.label for section in SECTIONS}
DEFAULT_SECTION = SECTION_IDS[0]


def section_from_query(value: str | None) -> str:
    """The section a URL's `?section=` names; the first one for a missing or unknown id (an
    old or mistyped link still opens the page)."""
    cleaned = (value or "").strip().lower()
    return cleaned if cleaned in LABELS else DEFAULT_SECTION


class Navigation(param.Parameterized):
    """Which section is in view: the sidebar, the URL and the tour all read and set it."""

    section: str = param.Selector(default=DEFAULT_SECTION, objects=list(SECTION_IDS))  # type: ignore[assignment]

    def go(self, section: str | None) -> None:
        self.section = section_from_query(section)


class SectionRefresh(param.Parameterized):
    active = param.String(default="", doc="the section in view")
    refreshes = param.Integer(default=0)
    skipped = param.Integer(
        default=0, doc="periods skipped because the section's last refresh was still running"
    )

    def __init__(self, sections: Mapping[str, Sequence[Refresh]], **params: Any) -> None:
        super().__init__(**params)
        self.sections = dict(sections)
        self._running: set[str] = set()

    async def refresh(self) -> None:
        # One refresh per section at a time; a section coming into view does not wait for
        # the one it replaced (that would cost it a whole period).
        section = self.active
        if section in self._running:
            self.skipped += 1
            return
        self._running.add(section)
        try:
            await asyncio.gather(*(make() for make in self.sections.get(section, ())))
            self.refreshes += 1
        finally:
            self._running.discard(section)

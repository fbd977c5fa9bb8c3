"""One list of sections: ids a URL can name, the sidebar grouped as the Deep Dive groups its
sections, the URL and the section in view kept in step, and only that section refreshing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.settings import Settings
from tests.unit.workbench.memory_api import MemoryApi
from workbench.app import LABEL_IDS, Stores, url_follows_page
from workbench.components.location import UrlState
from workbench.components.navigation import SectionMenu
from workbench.local_stack import StackFiles
from workbench.stores.sections import (
    DEFAULT_SECTION,
    GROUPS,
    LABELS,
    SECTION_IDS,
    Navigation,
    section_from_query,
)
from workbench.stores.timer import TimerStore
from workbench.stores.tour import TourStore

pytestmark = pytest.mark.unit


def test_section_ids_are_unique_short_slugs() -> None:
    assert len(set(SECTION_IDS)) == len(SECTION_IDS) == 17
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", section) for section in SECTION_IDS)
    assert DEFAULT_SECTION == "overview"


def test_the_sidebar_groups_follow_the_deep_dive() -> None:
    assert [[section.id for section in members] for _, members in GROUPS] == [
        ["overview", "architecture"],
        ["authentication", "configurations"],
        ["sentiment", "prices", "analytics", "model"],
        ["external-apis", "circuits"],
        ["traffic", "chaos"],
        ["caching", "observability", "health"],
        ["testing", "infrastructure"],
    ]


@pytest.mark.parametrize(
    ("query", "section"),
    [
        ("analytics", "analytics"),
        ("External-APIs", "external-apis"),
        (" chaos ", "chaos"),
        ("no-such-section", "overview"),
        ("", "overview"),
        (None, "overview"),
    ],
)
def test_a_url_names_its_section_and_anything_else_opens_the_first(
    query: str | None, section: str
) -> None:
    assert section_from_query(query) == section


def test_every_section_that_refreshes_is_one_of_the_page(api: MemoryApi, tmp_path: Path) -> None:
    settings = Settings(local_state_dir=str(tmp_path))
    stores = Stores.build(api.client(), StackFiles.from_settings(settings), settings)
    assert set(stores.section_refreshes()) <= set(LABELS.values())
    assert set(LABEL_IDS) == set(LABELS.values())


def test_the_menu_presses_one_button_of_the_whole_list() -> None:
    # Given the menu on the first section
    navigation = Navigation()
    menu = SectionMenu(navigation=navigation)
    assert [group.value for group in menu.groups][:2] == ["overview", None]

    # When a section of another group is chosen
    menu.groups[2].value = "analytics"

    # Then it is the one in view, and the first group shows none pressed
    assert navigation.section == "analytics"
    assert [group.value for group in menu.groups] == [None, None, "analytics"] + [None] * 4
    assert 'data-section="analytics"' in menu.crumb()
    assert "Analytics" in menu.crumb()

    # When the page moves on its own (the URL, the tour), Then the menu follows
    navigation.go("chaos")
    assert menu.groups[4].value == "chaos" and menu.groups[2].value is None


def test_the_url_and_the_page_follow_each_other() -> None:
    navigation = Navigation()
    tour = TourStore(navigation, TimerStore())
    url = UrlState(section=navigation.section, default_section=DEFAULT_SECTION)
    url_follows_page(url, navigation, tour)

    # A section chosen on the page goes to the URL
    navigation.go("caching")
    assert (url.section, url.tour) == ("caching", False)

    # The back button's URL (sent by the browser) is shown
    url.section = "analytics"
    assert navigation.section == "analytics"

    # A mistyped one opens the first section, and the URL says so
    url.section = "nope"
    assert navigation.section == url.section == "overview"

    # The tour is in the URL, both ways
    tour.start()
    assert url.tour is True
    url.tour = False
    assert tour.active is False
    url.section = "chaos"
    url.tour = True
    assert tour.active and tour.current.section == "chaos"

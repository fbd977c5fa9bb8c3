"""The interview tour: its steps follow the Deep Dive's order, each names a section of the
page, and stepping moves the page with the timer running."""

from __future__ import annotations

import pytest

from tests.unit.workbench.test_timer_store import Clock
from workbench.client import ApiClient
from workbench.components.header import HeaderTiles
from workbench.components.tour import TourCard
from workbench.stores.health import HealthStore
from workbench.stores.latency import LatencyStore
from workbench.stores.live import LiveTiles
from workbench.stores.ops import OpsStore
from workbench.stores.sections import LABELS, SECTION_IDS, Navigation
from workbench.stores.timer import TimerStore
from workbench.stores.tour import TourStore
from workbench.tour import TOUR

pytestmark = pytest.mark.unit

# The Deep Dive page's sections, in its order, as the page's section ids.
DEEP_DIVE_ORDER = [
    "overview",
    "architecture",
    "authentication",
    "configurations",
    "sentiment",
    "external-apis",
    "circuits",
    "traffic",
    "chaos",
    "caching",
    "observability",
    "health",
    "testing",
    "infrastructure",
]


def test_every_step_names_a_section_of_the_page_once() -> None:
    sections = [step.section for step in TOUR]
    assert set(sections) <= set(SECTION_IDS)
    assert len(set(sections)) == len(sections)


def test_the_steps_follow_the_deep_dive_order_and_cover_it() -> None:
    sections = [step.section for step in TOUR]
    assert [section for section in sections if section in DEEP_DIVE_ORDER] == DEEP_DIVE_ORDER
    # The page's own additions sit where they belong: with sentiment and prices.
    assert sections.index("prices") == sections.index("sentiment") + 1


def test_the_steps_follow_the_sidebar() -> None:
    sections = [step.section for step in TOUR]
    assert sections == [section for section in SECTION_IDS if section in sections]


def test_every_step_has_a_title_and_a_few_short_bullets() -> None:
    for step in TOUR:
        assert step.title and 1 <= len(step.bullets) <= 4, step.section
        assert all(0 < len(bullet) <= 240 for bullet in step.bullets), step.section


def test_the_tour_starts_the_timer_and_steps_through_the_sections() -> None:
    # Given the page on a section, with the timer stopped
    clock = Clock()
    navigation, timer = Navigation(section="caching"), TimerStore(clock=clock)
    tour = TourStore(navigation, timer)

    # When the tour starts, Then step 1 is shown and the timer runs
    tour.start()
    assert (tour.active, tour.step, navigation.section) == (True, 0, "overview")
    assert timer.running

    # When Next is pressed twice, Then the third step's section is in view
    tour.next()
    tour.next()
    assert (tour.step, navigation.section) == (2, TOUR[2].section)

    # Previous goes back; neither end is passed
    tour.previous()
    assert navigation.section == TOUR[1].section
    tour.previous()
    tour.previous()
    assert tour.step == 0
    for _ in range(len(TOUR) + 2):
        tour.next()
    assert (tour.step, navigation.section) == (len(TOUR) - 1, TOUR[-1].section)


def test_the_sidebar_during_the_tour_moves_it_or_leaves_it() -> None:
    navigation = Navigation()
    tour = TourStore(navigation, TimerStore())
    tour.start()
    navigation.go("chaos")
    assert tour.active and tour.current.section == "chaos"
    tour.end()
    navigation.go("caching")
    assert not tour.active and tour.current.section == "chaos"


def test_a_link_into_the_tour_starts_at_its_section() -> None:
    navigation = Navigation()
    tour = TourStore(navigation, TimerStore())
    tour.start(at="circuits")
    assert tour.current.section == navigation.section == "circuits"
    tour.start(at="not-a-step")
    assert tour.step == 0


def test_the_card_counts_the_steps_and_says_the_points() -> None:
    navigation, timer = Navigation(), TimerStore()
    tour = TourStore(navigation, timer)
    card = TourCard(store=tour)
    tour.start()
    assert f"Step 1 of {len(TOUR)}" in card.counter() and "running" in card.counter()
    assert card.previous_button.disabled and not card.next_button.disabled
    assert all(bullet in card.points() for bullet in TOUR[0].bullets)
    card.next_button.clicks += 1
    card.next_button.clicks += 1
    assert f"Step 3 of {len(TOUR)}" in card.counter()
    assert TOUR[2].title in card.points() and navigation.section == TOUR[2].section
    card.end_button.clicks += 1
    assert not tour.active


def test_the_header_starts_the_tour(client: ApiClient) -> None:
    navigation, timer = Navigation(section="testing"), TimerStore()
    tour = TourStore(navigation, timer)
    live = LiveTiles(
        health=HealthStore(client), latency=LatencyStore(client), ops=OpsStore(client, lambda: None)
    )
    header = HeaderTiles(live=live, timer=timer, tour=tour)
    assert header.tour_button in header.__panel__().objects[0].objects
    header.tour_button.clicks += 1
    assert tour.active and timer.running and navigation.section == "overview"
    assert LABELS[navigation.section] == "Overview"


def test_the_card_is_out_of_the_page_while_the_tour_is_off() -> None:
    tour = TourStore(Navigation(), TimerStore())
    card = TourCard(store=tour)
    assert card.shown() is not card.card
    tour.start()
    assert card.shown() is card.card

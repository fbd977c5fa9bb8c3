"""The Model & Accuracy section at the param level: live accuracy from the fake API (its
empty state, the ingestion run that fills it, the local-only route), the model card (missing,
then built: every table and chart from the card) and the pure charts they draw."""

from __future__ import annotations

import json
from pathlib import Path

import holoviews as hv
import panel as pn
import pytest
from bokeh.models import Plot

from services.settings import Settings
from tests.unit.workbench.fake_api import FakeApi
from tests.unit.workbench.loop import run
from tests.unit.workbench.markdown import shown
from workbench.app import Stores
from workbench.charts.model import (
    confusion_frame,
    confusion_heatmap,
    reliability_frame,
    reliability_plot,
    share_bars,
    share_frame,
)
from workbench.client import ApiClient
from workbench.components.live_accuracy import LiveAccuracyPanel
from workbench.components.model_card import ModelCardPanel
from workbench.local_stack import StackFiles
from workbench.stores.accuracy import LiveAccuracyStore
from workbench.stores.model_card import ModelCardStore
from workbench.stores.sections import SectionRefresh

pytestmark = pytest.mark.unit

CARD = json.loads((Path(__file__).parents[2] / "fixtures" / "model_card.json").read_text())


def click(button: pn.widgets.Button) -> None:
    button.clicks += 1


def rendered(element: hv.Element | hv.Overlay) -> list[str]:
    """The Bokeh glyphs the chart really draws (rendering raises on a broken chart)."""
    state = hv.renderer("bokeh").get_plot(element).state
    plots = [state] if isinstance(state, Plot) else list(state.select({"type": Plot}))
    return [type(r.glyph).__name__ for plot in plots for r in plot.renderers]


def accuracy_panel(fake: FakeApi, client: ApiClient) -> tuple[LiveAccuracyStore, LiveAccuracyPanel]:
    store = LiveAccuracyStore(client, lambda: fake.operator_token)
    panel = LiveAccuracyPanel(store=store)
    panel.__panel__()
    return store, panel


# --- live accuracy ----------------------------------------------------------------------------


def test_with_nothing_labelled_yet_the_section_says_why_and_ingestion_fills_it(
    fake: FakeApi, client: ApiClient
) -> None:
    # Given a local stack that has analyzed nothing from the labelled corpus
    fake.ops_routes = True
    store, panel = accuracy_panel(fake, client)
    run(store.refresh())
    assert store.status == "live" and store.n == 0
    assert "No analyzed articles from the labelled corpus yet" in panel.state()
    assert ">n/a<" in panel.tiles() and panel.matrix.objects == []

    # When "Run ingestion now" is pressed
    click(panel.ingest_button)

    # Then the cycle ran, and the figures of its labelled articles are on the page
    assert fake.ingestion_runs == 1
    assert store.n == 3 and store.accuracy == pytest.approx(0.6667)
    assert store.confusion == [[1, 0, 0], [0, 1, 0], [0, 1, 0]]
    assert panel.state() == ""
    tiles = panel.tiles()
    assert ">0.667<" in tiles and 'data-tile="Accuracy"' in tiles and ">3<" in tiles
    assert "GET /api/v2/ops/accuracy?limit=500" in tiles
    assert len(panel.matrix.objects) == 1
    assert "| negative | 1.000 |" in panel.details() and "`linear-v1` (3)" in panel.details()
    assert "Ingestion cycles run from this section: 1" in panel.outcome()
    assert fake.accuracy_limits == [500, 500]


def test_the_figures_follow_new_analyses_at_each_refresh(fake: FakeApi, client: ApiClient) -> None:
    fake.ops_routes = True
    fake.labelled = [("negative", "negative")] * 4
    store, panel = accuracy_panel(fake, client)
    run(store.refresh())
    assert store.accuracy == 1.0
    fake.labelled += [("positive", "neutral")] * 4
    run(store.refresh())
    assert store.accuracy == 0.5 and store.n == 8 and ">0.500<" in panel.tiles()


def test_an_api_without_the_route_is_said_to_measure_only_locally(
    fake: FakeApi, client: ApiClient
) -> None:
    fake.ops_routes = True
    fake.accuracy_route = False
    store, panel = accuracy_panel(fake, client)
    run(store.refresh())
    assert store.status == "missing"
    assert "measured on the local stack only" in panel.state() and "404" in panel.state()


def test_without_an_operator_token_nothing_is_asked(fake: FakeApi, client: ApiClient) -> None:
    store = LiveAccuracyStore(client, lambda: None)
    run(store.refresh())
    run(store.run_ingestion())
    assert store.status == "no_token" and fake.requests == []
    assert store.problem is not None and store.problem.code == "NO_OPERATOR_TOKEN"


# --- the model card ------------------------------------------------------------------------------


def card_panel(fake: FakeApi, client: ApiClient) -> tuple[ModelCardStore, ModelCardPanel]:
    store = ModelCardStore(client, lambda: fake.operator_token)
    panel = ModelCardPanel(store=store)
    panel.__panel__()
    return store, panel


def test_a_card_not_built_yet_says_how_and_appears_once_built(
    fake: FakeApi, client: ApiClient
) -> None:
    fake.ops_routes = True
    store, panel = card_panel(fake, client)
    run(store.refresh())
    assert store.status == "missing"
    assert "run `make model`" in shown(panel.heading()) and panel.evaluations() == ""
    assert not panel.dataset_select.visible and panel.charts.objects == []

    fake.model_card = CARD
    run(store.refresh())

    assert store.status == "live" and store.dataset == "tfns_valid"
    assert "Card `card-test-1`" in panel.heading() and "**cascade** tier" in panel.heading()
    assert panel.dataset_select.visible and panel.dataset_select.options == [
        "tfns_valid",
        "news_prose",
    ]


def test_the_card_is_shown_table_by_table(fake: FakeApi, client: ApiClient) -> None:
    fake.ops_routes = True
    fake.model_card = CARD
    store, panel = card_panel(fake, client)
    run(store.refresh())

    evaluations = shown(panel.evaluations())
    assert "| linear | tfns_valid | 20 | 0.850 | 0.800 | 0.050 | 9000 | 15000 |" in evaluations
    assert "| **cascade** (default) | news_prose | 20 | 0.800 | 0.750 | 0.080 | 400 | 700 |" in (
        evaluations
    )
    detail = panel.detail()
    assert "**cascade** on **tfns_valid** (n = 20)" in detail
    assert "| negative | 0.857 | 1.000 | 0.923 | 6 |" in detail
    assert len(panel.charts.objects) == 2  # the confusion matrix and the reliability plot
    assert len(panel.shares.objects) == 2
    data = shown(panel.data())
    assert "| sent_train.csv | 9,543 | MIT | `abababababab…` |" in data
    assert "| news_prose | news prose sentences | CC BY-SA 3.0 |" in data
    assert "**Base model**: name: a small transformer" in data
    failures = panel.failures()
    assert "| cascade | positive | negative | 0.91 | Shares of the company fell less" in failures


def test_choosing_another_data_set_shows_the_default_tier_on_it(
    fake: FakeApi, client: ApiClient
) -> None:
    fake.ops_routes = True
    fake.model_card = CARD
    store, panel = card_panel(fake, client)
    run(store.refresh())
    panel.dataset_select.value = "news_prose"
    assert store.dataset == "news_prose"
    assert "**cascade** on **news_prose**" in panel.detail()
    assert "| negative | 0.667 | 0.667 | 0.667 | 6 |" in panel.detail()


def test_a_card_once_read_is_not_asked_for_again(fake: FakeApi, client: ApiClient) -> None:
    fake.ops_routes = True
    fake.model_card = CARD
    store, _ = card_panel(fake, client)
    for _ in range(3):
        run(store.refresh())
    assert fake.requests.count("GET /api/v2/ops/model") == 1


def test_the_section_in_view_reads_both_routes(fake: FakeApi, tmp_path: Path) -> None:
    fake.ops_routes = True
    (tmp_path / "operator-token").write_text(fake.operator_token + "\n")
    settings = Settings(local_state_dir=str(tmp_path))
    stores = Stores.build(fake.client(), StackFiles.from_settings(settings), settings)
    in_view = SectionRefresh(stores.section_refreshes(), active="Model & Accuracy")
    run(in_view.refresh())
    assert {"GET /api/v2/ops/accuracy", "GET /api/v2/ops/model"} <= set(fake.requests)
    # A section of figures the header refreshes reads nothing of its own.
    in_view.active = "Health Check"
    before = len(fake.requests)
    run(in_view.refresh())
    assert len(fake.requests) == before


# --- the charts ------------------------------------------------------------------------------


def test_the_confusion_heatmap_writes_each_count_in_its_cell() -> None:
    labels = ["negative", "positive", "neutral"]
    frame = confusion_frame([[3, 1, 0], [0, 4, 0], [1, 0, 5]], labels)
    assert (
        frame.loc[(frame.truth == "negative") & (frame.predicted == "positive"), "count"].item()
        == 1
    )
    assert frame.loc[frame.truth == "negative", "share"].tolist() == [0.75, 0.25, 0.0]
    chart = confusion_heatmap(frame, "t")
    assert sorted(chart.Labels.I.dimension_values("count").tolist()) == sorted(frame["count"])
    assert set(rendered(chart)) == {"Rect", "Text"}


def test_the_reliability_plot_has_the_diagonal_and_each_bin() -> None:
    frame = reliability_frame(
        CARD["evaluations"]["tfns_valid"]["by_tier"]["cascade"]["reliability"]
    )
    assert frame["count"].tolist() == [2, 3, 15]
    chart = reliability_plot(frame, "t")
    diagonal = chart.Curve.Calibrated
    assert diagonal.dimension_values("confidence").tolist() == [0.0, 1.0]
    assert diagonal.dimension_values("accuracy").tolist() == [0.0, 1.0]
    assert rendered(chart).count("Line") == 2 and "Scatter" in rendered(chart)


def test_the_share_bars_stack_what_each_tier_answers() -> None:
    frame = share_frame(CARD["tiers"])
    cascade = frame[frame.tier == "cascade"]
    assert cascade.set_index("answered_by")["share"].to_dict() == {
        "linear": 0.7,
        "transformer": 0.3,
    }
    assert "VBar" in rendered(share_bars(frame))


def test_charts_of_empty_figures_are_empty_frames() -> None:
    assert reliability_frame([{"count": 0, "low": 0.0}]).empty
    assert share_frame({}).empty
    assert confusion_frame([], []).empty

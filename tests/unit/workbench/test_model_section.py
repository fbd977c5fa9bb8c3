"""The Model & Accuracy section at the param level: live accuracy from the API (its
empty state, the ingestion run that fills it, the local-only route), the model card (missing,
then built: every table and chart from the card) and the pure charts they draw."""

from __future__ import annotations

import json
from pathlib import Path

import holoviews as hv
import panel as pn
import pytest
from bokeh.models import Plot

from services.local.live_accuracy import live_accuracy
from services.settings import Settings
from tests.unit.workbench import seed
from tests.unit.workbench.loop import run
from tests.unit.workbench.markdown import shown
from tests.unit.workbench.memory_api import MemoryApi
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


def accuracy_panel(
    api: MemoryApi, client: ApiClient
) -> tuple[LiveAccuracyStore, LiveAccuracyPanel]:
    store = LiveAccuracyStore(client, lambda: api.operator_token)
    panel = LiveAccuracyPanel(store=store)
    panel.__panel__()
    return store, panel


# --- live accuracy ----------------------------------------------------------------------------


def test_with_nothing_labelled_yet_the_section_says_why_and_ingestion_fills_it(
    api: MemoryApi, client: ApiClient
) -> None:
    # Given a local stack that has analyzed nothing from the labelled corpus
    api.ops_routes = True
    store, panel = accuracy_panel(api, client)
    run(store.refresh())
    assert store.status == "live" and store.n == 0
    assert "No analyzed articles from the labelled corpus yet" in panel.state()
    assert ">n/a<" in panel.tiles() and panel.matrix.objects == []

    # When "Run ingestion now" is pressed
    click(panel.ingest_button)

    # Then the cycle ran (the emulated news are written from the labelled headlines, and the
    # linear model scored them), and the figures of its articles are on the page
    assert api.ingestion_runs == 1
    measured = live_accuracy(api.memory.articles, 500)
    n = measured["n"]
    assert n > 0 and store.n == n and store.accuracy == measured["accuracy"]
    assert store.confusion == measured["confusion"]
    assert panel.state() == ""
    tiles = panel.tiles()
    assert f">{measured['accuracy']:.3f}<" in tiles and 'data-tile="Accuracy"' in tiles
    assert f">{n}<" in tiles and "GET /api/v2/ops/accuracy?limit=500" in tiles
    assert len(panel.matrix.objects) == 1
    negative = measured["per_class"]["negative"]["precision"]
    ((version, scored),) = measured["model_versions"].items()
    assert f"| negative | {negative:.3f} |" in panel.details()
    assert f"`{version}` ({scored})" in panel.details()
    assert "Ingestion cycles run from this section: 1" in panel.outcome()
    assert api.runtime.accuracy_limits == [500, 500]


def test_the_figures_follow_new_analyses_at_each_refresh(api: MemoryApi, client: ApiClient) -> None:
    # Given four analyzed stories of negative headlines, all labelled right
    api.ops_routes = True
    seed.labelled(api.memory, api.clock(), [("negative", "negative")] * 4)
    store, panel = accuracy_panel(api, client)
    run(store.refresh())
    assert store.accuracy == 1.0
    # When four stories of positive headlines are analyzed as neutral
    seed.labelled(api.memory, api.clock(), [("positive", "neutral")] * 4)
    run(store.refresh())
    assert store.accuracy == 0.5 and store.n == 8 and ">0.500<" in panel.tiles()


def test_an_api_without_the_route_is_said_to_measure_only_locally(
    api: MemoryApi, client: ApiClient
) -> None:
    api.ops_routes = True
    api.accuracy_route = False
    store, panel = accuracy_panel(api, client)
    run(store.refresh())
    assert store.status == "missing"
    assert "measured on the local stack only" in panel.state() and "404" in panel.state()


def test_without_an_operator_token_nothing_is_asked(api: MemoryApi, client: ApiClient) -> None:
    store = LiveAccuracyStore(client, lambda: None)
    run(store.refresh())
    run(store.run_ingestion())
    assert store.status == "no_token" and api.requests == []
    assert store.problem is not None and store.problem.code == "NO_OPERATOR_TOKEN"


# --- the model card ------------------------------------------------------------------------------


def card_panel(api: MemoryApi, client: ApiClient) -> tuple[ModelCardStore, ModelCardPanel]:
    store = ModelCardStore(client, lambda: api.operator_token)
    panel = ModelCardPanel(store=store)
    panel.__panel__()
    return store, panel


def test_a_card_not_built_yet_says_how_and_appears_once_built(
    api: MemoryApi, client: ApiClient
) -> None:
    api.ops_routes = True
    store, panel = card_panel(api, client)
    run(store.refresh())
    assert store.status == "missing"
    assert "run `make model`" in shown(panel.heading()) and panel.evaluations() == ""
    assert not panel.dataset_select.visible and panel.charts.objects == []

    api.write_model_card(CARD)
    run(store.refresh())

    assert store.status == "live" and store.dataset == "tfns_valid"
    assert "Card `card-test-1`" in panel.heading() and "**cascade** tier" in panel.heading()
    assert panel.dataset_select.visible and panel.dataset_select.options == [
        "tfns_valid",
        "news_prose",
    ]


def test_the_card_is_shown_table_by_table(api: MemoryApi, client: ApiClient) -> None:
    api.ops_routes = True
    api.write_model_card(CARD)
    store, panel = card_panel(api, client)
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
    api: MemoryApi, client: ApiClient
) -> None:
    api.ops_routes = True
    api.write_model_card(CARD)
    store, panel = card_panel(api, client)
    run(store.refresh())
    panel.dataset_select.value = "news_prose"
    assert store.dataset == "news_prose"
    assert "**cascade** on **news_prose**" in panel.detail()
    assert "| negative | 0.667 | 0.667 | 0.667 | 6 |" in panel.detail()


def test_a_card_once_read_is_not_asked_for_again(api: MemoryApi, client: ApiClient) -> None:
    api.ops_routes = True
    api.write_model_card(CARD)
    store, _ = card_panel(api, client)
    for _ in range(3):
        run(store.refresh())
    assert api.requests.count("GET /api/v2/ops/model") == 1


def test_the_section_in_view_reads_both_routes(api: MemoryApi, tmp_path: Path) -> None:
    api.ops_routes = True
    (tmp_path / "operator-token").write_text(api.operator_token + "\n")
    settings = Settings(local_state_dir=str(tmp_path))
    stores = Stores.build(api.client(), StackFiles.from_settings(settings), settings)
    in_view = SectionRefresh(stores.section_refreshes(), active="Model & Accuracy")
    run(in_view.refresh())
    assert {"GET /api/v2/ops/accuracy", "GET /api/v2/ops/model"} <= set(api.requests)
    # A section of figures the header refreshes reads nothing of its own.
    in_view.active = "Health Check"
    before = len(api.requests)
    run(in_view.refresh())
    assert len(api.requests) == before


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

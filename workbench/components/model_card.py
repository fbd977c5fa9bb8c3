"""The model card (`GET /api/v2/ops/model`): every tier's figures on every evaluation data set,
the default tier in detail on a chosen data set (per-class figures, confusion matrix,
reliability), the share of texts each tier answers, the training data with its licences and
the failure modes, each with an example."""

from __future__ import annotations

from typing import Any

import panel as pn
import param
from panel.viewable import Viewer

from workbench.charts.model import (
    confusion_frame,
    confusion_heatmap,
    reliability_frame,
    reliability_plot,
    share_bars,
    share_frame,
)
from workbench.components.format import md_text, per_class_markdown
from workbench.stores.model_card import ModelCardStore

NOT_BUILT = (
    "The model card is built with the model (`make model`) and shipped beside its weights; "
    "this section shows it as soon as the API can read it."
)


def _cell(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool) or value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    # A table cell holds one line; headlines and descriptions are text, never Markdown (a pipe
    # would end the cell, a tag would reach the page).
    return md_text(" ".join(str(value).split()))


def evaluations_markdown(card: dict[str, Any]) -> str:
    """One row per tier and data set: size, accuracy, macro-F1, ECE and the tier's speed."""
    tiers = card.get("tiers") or {}
    default = card.get("default_tier")
    rows = [
        "| tier | data set | n | accuracy | macro-F1 | ECE "
        "| texts/s, 1 core | texts/s, all cores |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for dataset, evaluation in (card.get("evaluations") or {}).items():
        for tier, figures in (evaluation.get("by_tier") or {}).items():
            speed = tiers.get(tier) or {}
            name = f"**{tier}** (default)" if tier == default else tier
            rows.append(
                f"| {name} | {_cell(dataset)} | {_cell(figures.get('n'))} "
                f"| {_cell(figures.get('accuracy'))} | {_cell(figures.get('macro_f1'))} "
                f"| {_cell(figures.get('ece'))} | {_cell(speed.get('texts_per_s_one_core'), 0)} "
                f"| {_cell(speed.get('texts_per_s_all_cores'), 0)} |"
            )
    return "\n".join(rows)


def tiers_markdown(card: dict[str, Any]) -> str:
    rows = ["| tier | version | what it is |", "|---|---|---|"]
    for tier, figures in (card.get("tiers") or {}).items():
        rows.append(
            f"| {_cell(tier)} | `{_cell(figures.get('version'))}` "
            f"| {_cell(figures.get('description'))} |"
        )
    return "\n".join(rows)


def data_markdown(card: dict[str, Any]) -> str:
    """What the model was trained on and evaluated on, each with its licence."""
    rows = ["| file (training) | rows | licence | sha256 |", "|---|---:|---|---|"]
    for entry in card.get("training_data") or []:
        rows.append(
            f"| {_cell(entry.get('file'))} | {_cell(entry.get('rows'))} "
            f"| {_cell(entry.get('licence'))} | `{str(entry.get('sha256', ''))[:12]}…` |"
        )
    rows += ["", "| data set (evaluation) | what it is | licence |", "|---|---|---|"]
    for name, evaluation in (card.get("evaluations") or {}).items():
        rows.append(
            f"| {_cell(name)} | {_cell(evaluation.get('description'))} "
            f"| {_cell(evaluation.get('licence'))} |"
        )
    base = card.get("base_model") or {}
    if base:
        described = ", ".join(f"{k}: {_cell(v)}" for k, v in base.items())
        rows += ["", f"**Base model**: {described}"]
    return "\n".join(rows)


def failures_markdown(card: dict[str, Any]) -> str:
    failures = card.get("failure_modes") or []
    if not failures:
        return "The card lists no failure modes."
    rows = [
        "| tier | known | predicted | confidence | example |",
        "|---|---|---|---:|---|",
    ]
    for failure in failures:
        rows.append(
            f"| {_cell(failure.get('tier'))} | {_cell(failure.get('truth'))} "
            f"| {_cell(failure.get('predicted'))} | {_cell(failure.get('confidence'), 2)} "
            f"| {_cell(failure.get('text'))} |"
        )
    return "\n".join(rows)


class ModelCardPanel(Viewer):
    store: ModelCardStore = param.ClassSelector(class_=ModelCardStore)  # type: ignore[assignment]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.dataset_select = pn.widgets.Select(
            label="The default tier in detail, on", options=[], width=320
        )
        self.dataset_select.link(self.store, value="dataset")
        # Kept for the page's life and given new objects when the card or data set changes.
        self.charts = pn.GridBox(ncols=2, sizing_mode="stretch_width")
        self.shares = pn.Column(sizing_mode="stretch_width")
        self.store.param.watch(self._draw, ["card", "dataset", "status"])
        self._draw()

    def _draw(self, *_: Any) -> None:
        store = self.store
        live = store.status == "live"
        self.dataset_select.param.update(
            options=store.datasets, value=store.dataset or None, visible=live
        )
        shares = share_frame(store.card.get("tiers") or {}) if live else None
        self.shares.objects = (
            []
            if shares is None or shares.empty
            else [
                pn.pane.Markdown("#### Which tier answers"),
                pn.pane.HoloViews(share_bars(shares), sizing_mode="stretch_width"),
            ]
        )
        chosen = store.default_tier_evaluation()
        if not live or not chosen:
            self.charts.objects = []
            return
        tier = store.card.get("default_tier")
        plots = []
        if chosen.get("confusion"):
            frame = confusion_frame(chosen["confusion"], chosen.get("labels") or [])
            title = f"{tier} on {store.dataset}: known against predicted"
            plots.append(confusion_heatmap(frame, title))
        bins = reliability_frame(chosen.get("reliability") or [])
        if not bins.empty:
            plots.append(reliability_plot(bins, f"{tier} on {store.dataset}: reliability"))
        self.charts.objects = [pn.pane.HoloViews(p, sizing_mode="stretch_width") for p in plots]

    @param.depends("store.status", "store.note", "store.card")
    def heading(self) -> str:
        store = self.store
        if store.status != "live":
            note = md_text(store.note or "waiting for the first answer")
            return f"{NOT_BUILT}\n\n**Model card**: {note}"
        card = store.card
        return (
            f"Card `{card.get('version')}`, generated at {card.get('generated_at')}; analysis "
            f"uses the **{card.get('default_tier')}** tier.\n\n{tiers_markdown(card)}"
        )

    @param.depends("store.card", "store.status")
    def evaluations(self) -> str:
        if self.store.status != "live":
            return ""
        return f"#### Every tier on every data set\n\n{evaluations_markdown(self.store.card)}"

    @param.depends("store.card", "store.dataset", "store.status")
    def detail(self) -> str:
        store = self.store
        if store.status != "live":
            return ""
        chosen = store.default_tier_evaluation()
        tier = store.card.get("default_tier")
        if not chosen:
            where = store.dataset or "any data set"
            return f"The default tier ({tier}) has no figures on {where}."
        return (
            f"**{tier}** on **{store.dataset}** (n = {chosen.get('n')}): accuracy "
            f"{_cell(chosen.get('accuracy'))}, macro-F1 {_cell(chosen.get('macro_f1'))}, ECE "
            f"{_cell(chosen.get('ece'))}\n\n"
            + per_class_markdown(chosen.get("per_class") or {}, chosen.get("labels") or [])
        )

    @param.depends("store.card", "store.status")
    def data(self) -> str:
        if self.store.status != "live":
            return ""
        return f"#### Training and evaluation data\n\n{data_markdown(self.store.card)}"

    @param.depends("store.card", "store.status")
    def failures(self) -> str:
        if self.store.status != "live":
            return ""
        return f"#### Failure modes\n\n{failures_markdown(self.store.card)}"

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            "### Model card `GET /api/v2/ops/model`",
            pn.pane.Markdown(self.heading, sizing_mode="stretch_width"),
            pn.pane.Markdown(self.evaluations, sizing_mode="stretch_width"),
            self.dataset_select,
            pn.pane.Markdown(self.detail, sizing_mode="stretch_width"),
            self.charts,
            self.shares,
            pn.pane.Markdown(self.data, sizing_mode="stretch_width"),
            pn.pane.Markdown(self.failures, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

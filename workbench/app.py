"""The workbench page. `panel serve workbench/app.py` (or `make workbench`) serves it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import panel as pn
import param

from services.settings import Settings, get_settings, watchlist
from workbench.client import ApiClient
from workbench.components.analytics import AnalyticsPanel
from workbench.components.architecture import ArchitecturePanel
from workbench.components.cache_layer import CacheLayerNote
from workbench.components.caching import CachingPanel
from workbench.components.chaos import ChaosPanel
from workbench.components.circuits import CircuitsPanel
from workbench.components.configurations import ConfigurationsPanel
from workbench.components.header import HeaderTiles
from workbench.components.health import HealthPanel
from workbench.components.infrastructure import InfrastructurePanel
from workbench.components.live_accuracy import LiveAccuracyPanel
from workbench.components.location import UrlState
from workbench.components.logs import LogTail
from workbench.components.magic_link import MagicLinkPanel
from workbench.components.metrics import MetricCharts
from workbench.components.model_card import ModelCardPanel
from workbench.components.navigation import CRUMB_CSS, SectionMenu
from workbench.components.oauth import OAuthPanel
from workbench.components.overlay import PriceSentimentPanel
from workbench.components.overview import OverviewPanel
from workbench.components.quotas import QuotasPanel
from workbench.components.sentiment import SentimentPanel
from workbench.components.session import SessionPanel
from workbench.components.testing import SuiteResultsPanel
from workbench.components.tour import TourCard
from workbench.components.traces import TraceBreakdown
from workbench.components.traffic import TrafficPanel
from workbench.local_stack import StackFiles
from workbench.stores.accuracy import LiveAccuracyStore
from workbench.stores.analytics import AnalyticsStore
from workbench.stores.chaos import ChaosStore
from workbench.stores.configurations import ConfigurationsStore
from workbench.stores.costs import CostStore
from workbench.stores.health import HealthStore
from workbench.stores.infrastructure import InfrastructureStore
from workbench.stores.latency import LatencyStore
from workbench.stores.live import LiveTiles
from workbench.stores.logs import LogsStore
from workbench.stores.magic_link import LINK_PARAMETER, MagicLinkStore
from workbench.stores.metrics import MetricsStore
from workbench.stores.model_card import ModelCardStore
from workbench.stores.oauth import OAuthStore
from workbench.stores.ops import OpsStore
from workbench.stores.overlay import OverlayStore
from workbench.stores.pipeline import PipelineStore
from workbench.stores.quotas import QuotasStore
from workbench.stores.reports import ReportsStore
from workbench.stores.schema import SchemaStore
from workbench.stores.sections import (
    DEFAULT_SECTION,
    LABELS,
    SECTIONS,
    Navigation,
    SectionRefresh,
    once,
)
from workbench.stores.sentiment import SentimentStore
from workbench.stores.session import SessionStore
from workbench.stores.table import TableStore
from workbench.stores.timer import TimerStore
from workbench.stores.tour import TourStore
from workbench.stores.traces import TracesStore
from workbench.stores.traffic import TrafficStore

REFRESH_MS = 2000
# Builds one section's view.
SectionView = Callable[[], pn.viewable.Viewable | pn.viewable.Viewer]
LABEL_IDS = {section.label: section.id for section in SECTIONS}
TICK_MS = 1000
AUTH_INTRO = """## Authentication

Three ways in: an **anonymous session** for a quick start (the smallest limits), a **magic
link** by e-mail (passwordless, single use, converts the anonymous session into an account),
and **OAuth 2.0** (Google through Cognito: a full account, merging the anonymous data too).
"""
MODEL_INTRO = """## Model & Accuracy

How good the sentiment model is, measured twice: live, on the news this stack ingested (real
headlines with known labels), and offline, on the evaluation data sets of the model card."""
OBSERVABILITY_INTRO = """## Observability

Logs, metrics and traces for production debugging: JSON logs with correlation IDs (levels
DEBUG, INFO, WARNING, ERROR; e-mails masked and secrets dropped before anything is logged),
metrics of the pipeline, the API and the caches (CloudWatch EMF in AWS), and a timing
breakdown of each request (X-Ray in AWS)."""


def current_theme() -> str:
    """`?theme=dark` in the URL selects the dark theme; light otherwise."""
    requested = pn.state.session_args.get("theme", [b"default"])[0].decode()
    return "dark" if requested == "dark" else "default"


def landing_argument(name: str) -> str | None:
    """A query argument of the URL the page was opened with."""
    values = pn.state.session_args.get(name)
    return values[0].decode() if values else None


def theme_switch(theme: str) -> pn.widgets.Button:
    """Reloads the page in the other theme (the template's theme is fixed per page load)."""
    other = "default" if theme == "dark" else "dark"
    button = pn.widgets.Button(
        label="Light theme" if theme == "dark" else "Dark theme", color="light"
    )
    button.js_on_click(
        code=f"const u = new URL(window.location); u.searchParams.set('theme', '{other}');"
        "window.location = u;"
    )
    return button


@dataclass
class Stores:
    """Every store of one page (one browser session), wired to one API client."""

    client: ApiClient
    live: LiveTiles
    timer: TimerStore
    schema: SchemaStore
    session: SessionStore
    magic_link: MagicLinkStore
    oauth: OAuthStore
    configurations: ConfigurationsStore
    sentiment: SentimentStore
    overlay: OverlayStore
    analytics: AnalyticsStore
    accuracy: LiveAccuracyStore
    model_card: ModelCardStore
    quotas: QuotasStore
    chaos: ChaosStore
    pipeline: PipelineStore
    table: TableStore
    metrics: MetricsStore
    logs: LogsStore
    traces: TracesStore
    reports: ReportsStore
    costs: CostStore
    traffic: TrafficStore
    infrastructure: InfrastructureStore

    @classmethod
    def build(cls, client: ApiClient, files: StackFiles, settings: Settings) -> Stores:
        session = SessionStore(client)
        default_watchlist = watchlist(settings)
        configurations = ConfigurationsStore(client, session=session, watchlist=default_watchlist)
        schema = SchemaStore(client)
        token = files.operator_token
        return cls(
            client=client,
            live=LiveTiles(
                health=HealthStore(client),
                latency=LatencyStore(client),
                ops=OpsStore(client, token),
            ),
            timer=TimerStore(),
            schema=schema,
            session=session,
            magic_link=MagicLinkStore(client, lambda: files.url("sendgrid_url"), session=session),
            oauth=OAuthStore(client, session=session),
            configurations=configurations,
            sentiment=SentimentStore(client, token, configurations=configurations),
            overlay=OverlayStore(
                client,
                token,
                configurations=configurations,
                schema=schema,
                watchlist=default_watchlist,
            ),
            analytics=AnalyticsStore(client, session, token, default_watchlist),
            accuracy=LiveAccuracyStore(client, token),
            model_card=ModelCardStore(client, token),
            # The bands are the API's own settings (the same environment configures both).
            quotas=QuotasStore(
                client,
                token,
                warning_fraction=settings.quota_warning_fraction,
                critical_fraction=settings.quota_critical_fraction,
                reserve_fraction=settings.quota_reserve_fraction,
            ),
            chaos=ChaosStore(client, token),
            pipeline=PipelineStore(client, token),
            table=TableStore(client, token),
            metrics=MetricsStore(client, token),
            logs=LogsStore(client, token),
            traces=TracesStore(client, token),
            reports=ReportsStore(files.paths.root / "reports"),
            costs=CostStore(),
            traffic=TrafficStore(client.base_url, token),
            infrastructure=InfrastructureStore(files.paths.root / "infrastructure" / "terraform"),
        )

    def section_refreshes(self) -> dict[str, list[Any]]:
        """What each section reads on every period while it is in view (the header's tiles,
        circuits and caches included, refresh on their own)."""
        return {
            "Overview": [self.metrics.refresh, self.reports.refresh, self.costs.refresh],
            "Architecture": [self.pipeline.refresh, self.table.refresh, self.metrics.refresh],
            "Model & Accuracy": [self.accuracy.refresh, self.model_card.refresh],
            "External APIs": [self.quotas.refresh],
            "Chaos": [self.chaos.refresh],
            "Observability": [
                self.logs.follow,
                self.traces.refresh_showing_newest,
                self.metrics.refresh,
            ],
            "Testing": [self.reports.refresh],
            # Each draws its default on its first view, then waits for its controls.
            "Authentication": [once(self.session.ensure)],
            "Traffic Generator": [once(self.traffic.run_default)],
            "Configurations": [self.configurations.first_show],
            "Sentiment": [self.sentiment.first_show],
            "Price & Sentiment": [self.overlay.first_show],
            "Analytics": [self.analytics.first_show],
        }

    async def start(self, magic_token: str | None, code: str | None, state: str | None) -> None:
        """First load: the API's document, then any sign-in the URL brings back, then tiles.

        Neither signs in silently. A magic link only asks "sign in as <address>?" (a link sent
        by someone else would sign the reader in to their account); an OAuth `code` and
        `state` are sent back, but the API finishes only a sign-in this browser started, so
        one started elsewhere is refused and shown as such."""
        await self.schema.load()
        if magic_token:
            await self.magic_link.open_link(magic_token)
        elif code and state:
            await self.oauth.complete(code, state)
        await self.live.refresh()


def url_follows_page(url: UrlState, navigation: Navigation, tour: TourStore) -> None:
    """The URL names the section in view and the tour; the back button's URL is shown."""

    def from_url(event: param.parameterized.Event) -> None:
        if event.name == "tour":
            if event.new and not tour.active:
                tour.start(at=url.section)
            elif not event.new:
                tour.end()
        else:
            navigation.go(event.new)

    url.param.watch(from_url, ["section", "tour"])
    navigation.param.watch(lambda event: setattr(url, "section", event.new), "section")
    tour.param.watch(lambda event: setattr(url, "tour", event.new), "active")


def section_views(stores: Stores, settings: Settings) -> dict[str, SectionView]:
    """How to build each section's view, by section id. A section is built the first time it
    comes into view: the page opens with the header and one section, not seventeen."""
    ops = stores.live.ops
    by_label: dict[str, SectionView] = {
        "Overview": lambda: OverviewPanel(
            ops=ops,
            metrics=stores.metrics,
            latency=stores.live.latency,
            reports=stores.reports,
            costs=stores.costs,
        ),
        "Architecture": lambda: ArchitecturePanel(
            pipeline=stores.pipeline, table=stores.table, metrics=stores.metrics
        ),
        "Authentication": lambda: authentication_view(stores),
        "Configurations": lambda: configurations_view(stores),
        "Sentiment": lambda: sentiment_view(stores),
        "Price & Sentiment": lambda: PriceSentimentPanel(store=stores.overlay),
        "Analytics": lambda: AnalyticsPanel(store=stores.analytics),
        "Model & Accuracy": lambda: model_view(stores),
        "External APIs": lambda: QuotasPanel(store=stores.quotas),
        "Circuit Breakers": lambda: CircuitsPanel(
            live=stores.live,
            open_timeout_s=settings.circuit_open_timeout_s,
            failure_window_s=settings.circuit_failure_window_s,
        ),
        "Traffic Generator": lambda: TrafficPanel(store=stores.traffic),
        "Chaos": lambda: ChaosPanel(store=stores.chaos, ops=ops),
        "Caching": lambda: CachingPanel(ops=ops),
        "Observability": lambda: observability_view(stores),
        "Health Check": lambda: HealthPanel(store=stores.live.health),
        "Testing": lambda: SuiteResultsPanel(store=stores.reports),
        "Infrastructure": lambda: InfrastructurePanel(store=stores.infrastructure),
    }
    return {LABEL_IDS[label]: build for label, build in by_label.items()}


def authentication_view(stores: Stores) -> pn.Column:
    """The session beside the two ways to sign in (magic link, OAuth)."""
    return pn.Column(
        AUTH_INTRO,
        pn.Row(
            SessionPanel(session=stores.session),
            pn.Column(
                MagicLinkPanel(store=stores.magic_link),
                OAuthPanel(store=stores.oauth),
                sizing_mode="stretch_width",
            ),
            sizing_mode="stretch_width",
        ),
        sizing_mode="stretch_width",
    )


def configurations_view(stores: Stores) -> pn.Column:
    """The configurations, and what the cache in front of their lists does."""
    return pn.Column(
        ConfigurationsPanel(store=stores.configurations, schema=stores.schema),
        CacheLayerNote(
            ops=stores.live.ops, layer="configuration_lists", title="configuration lists"
        ),
        sizing_mode="stretch_width",
    )


def sentiment_view(stores: Stores) -> pn.Column:
    """A configuration's sentiment, and what the cache in front of it does."""
    return pn.Column(
        SentimentPanel(store=stores.sentiment),
        CacheLayerNote(
            ops=stores.live.ops,
            layer="configuration_sentiment",
            title="a configuration's sentiment",
        ),
        sizing_mode="stretch_width",
    )


def model_view(stores: Stores) -> pn.Column:
    """The model measured live on ingested news, then on the model card's data sets."""
    return pn.Column(
        MODEL_INTRO,
        LiveAccuracyPanel(store=stores.accuracy),
        ModelCardPanel(store=stores.model_card),
        sizing_mode="stretch_width",
    )


def observability_view(stores: Stores) -> pn.Column:
    """Logs, metrics and traces, one under the other."""
    return pn.Column(
        OBSERVABILITY_INTRO,
        LogTail(store=stores.logs),
        MetricCharts(store=stores.metrics),
        TraceBreakdown(store=stores.traces),
        sizing_mode="stretch_width",
    )


def build_page(
    api_url: str, settings: Settings, refresh_ms: int = REFRESH_MS
) -> pn.template.BootstrapTemplate:
    stores = Stores.build(ApiClient(api_url), StackFiles.from_settings(settings), settings)
    theme = current_theme()
    navigation = Navigation()
    tour = TourStore(navigation, stores.timer)
    landing = Landing.from_url()
    open_landing_section(landing, navigation, tour)
    menu = SectionMenu(navigation=navigation)
    in_view = SectionRefresh(stores.section_refreshes(), active=LABELS[navigation.section])
    sections = sections_built_on_first_view(section_views(stores, settings), navigation, in_view)
    url = UrlState(section=navigation.section, default_section=DEFAULT_SECTION)
    url_follows_page(url, navigation, tour)
    # Bootstrap, not Fast or Material: those pull web fonts from the internet, and the
    # workbench must work on an offline machine. Panel serves Bokeh's and HoloViews' scripts
    # from its own static route, so the chart needs no CDN either.
    template = pn.template.BootstrapTemplate(
        title="Sentiment Deep Dive Workbench",
        theme=theme,
        header=[theme_switch(theme)],
        sidebar=[pn.pane.Markdown(f"**API**: `{api_url}`"), "### Sections", menu, url],
        main=[
            HeaderTiles(live=stores.live, timer=stores.timer, tour=tour),
            TourCard(store=tour),
            pn.pane.HTML(menu.crumb, stylesheets=[CRUMB_CSS], margin=(0, 10)),
            *sections,
        ],
    )
    schedule_reads(stores, in_view, landing, refresh_ms)
    return template


@dataclass(frozen=True)
class Landing:
    """What the URL the page was opened with brings back: a magic link, or an OAuth `code`
    and `state` (all None for a page opened without a sign-in)."""

    magic_token: str | None
    code: str | None
    state: str | None

    @classmethod
    def from_url(cls) -> Landing:
        return cls(
            landing_argument(LINK_PARAMETER), landing_argument("code"), landing_argument("state")
        )

    @property
    def signs_in(self) -> bool:
        return bool(self.magic_token or (self.code and self.state))


def open_landing_section(landing: Landing, navigation: Navigation, tour: TourStore) -> None:
    """The section the page opens on: a sign-in's outcome, else the one the URL names (and
    the tour, if the URL asks for it)."""
    if landing.signs_in:
        # Back from a sign-in: open where its outcome is shown.
        navigation.go("authentication")
    else:
        navigation.go(landing_argument("section"))
        if landing_argument("tour") == "1":
            tour.start(at=navigation.section)


def sections_built_on_first_view(
    views: dict[str, SectionView], navigation: Navigation, in_view: SectionRefresh
) -> list[pn.Column]:
    """One container per section, the one in view visible, each filled the first time it
    comes into view.

    Every section shown once stays on the page, only the one in view visible (as tabs
    would): coming back costs no round of re-rendering, and what it drew is still there."""
    shown = {
        section: pn.Column(
            visible=False, sizing_mode="stretch_width", css_classes=[f"section-{section}"]
        )
        for section in views
    }

    def reveal(section: str) -> None:
        if not shown[section].objects:
            shown[section].objects = [views[section]()]
        shown[section].visible = True

    def show(event: param.parameterized.Event) -> None:
        shown[event.old].visible = False
        reveal(event.new)
        # A section read at once when it comes into view, then on every period, and without
        # the document's lock as the periodic refreshes: a coroutine holding the lock holds
        # it across its API calls (a table scan, a trace), and the page's next message (the
        # next section chosen) would wait for them.
        in_view.active = LABELS[event.new]
        pn.state.execute(in_view.refresh)

    reveal(navigation.section)
    navigation.param.watch(show, "section")
    return list(shown.values())


def schedule_reads(
    stores: Stores, in_view: SectionRefresh, landing: Landing, refresh_ms: int
) -> None:
    """The first load when the page opens, then the header and the section in view on every
    period, and the clock every second."""

    async def start() -> None:
        if landing.signs_in:
            # The sign-in first: the section in view shows its outcome.
            await stores.start(landing.magic_token, landing.code, landing.state)
            await in_view.refresh()
        else:
            # The section in view reads at once, not at the first period.
            await asyncio.gather(stores.start(None, None, None), in_view.refresh())

    pn.state.onload(start)
    # Panel runs coroutine callbacks on its event loop; its annotation omits them.
    pn.state.add_periodic_callback(stores.live.refresh, period=refresh_ms)  # type: ignore[arg-type]
    pn.state.add_periodic_callback(in_view.refresh, period=refresh_ms)  # type: ignore[arg-type]
    pn.state.add_periodic_callback(stores.timer.tick, period=TICK_MS)


if pn.state.served:
    settings = get_settings()
    build_page(
        settings.api_url or f"http://127.0.0.1:{settings.local_api_port}", settings
    ).servable()

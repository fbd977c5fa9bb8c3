"""The workbench page. `panel serve workbench/app.py` (or `make workbench`) serves it."""

from __future__ import annotations

import panel as pn

from services.settings import get_settings
from workbench.client import ApiClient
from workbench.components.health import HealthPanel
from workbench.stores.health import HealthStore

REFRESH_MS = 2000


def build_page(api_url: str, refresh_ms: int = REFRESH_MS) -> pn.template.FastListTemplate:
    store = HealthStore(ApiClient(api_url))
    template = pn.template.FastListTemplate(
        title="Sentiment Deep Dive Workbench",
        sidebar=[pn.pane.Markdown(f"**API**: `{api_url}`"), "### Sections", "- Health Check"],
        main=[HealthPanel(store=store)],
        theme_toggle=True,
    )
    pn.state.onload(store.refresh)
    # Panel runs coroutine callbacks on its event loop; its annotation omits them.
    pn.state.add_periodic_callback(store.refresh, period=refresh_ms)  # type: ignore[arg-type]
    return template


if pn.state.served:
    settings = get_settings()
    build_page(settings.api_url or f"http://127.0.0.1:{settings.local_api_port}").servable()

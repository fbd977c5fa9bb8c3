"""The workbench page. `panel serve workbench/app.py` (or `make workbench`) serves it."""

from __future__ import annotations

import panel as pn

from services.settings import get_settings
from workbench.client import ApiClient
from workbench.components.health import HealthPanel
from workbench.stores.health import HealthStore

REFRESH_MS = 2000


def current_theme() -> str:
    """`?theme=dark` in the URL selects the dark theme; light otherwise."""
    requested = pn.state.session_args.get("theme", [b"default"])[0].decode()
    return "dark" if requested == "dark" else "default"


def theme_switch(theme: str) -> pn.widgets.Button:
    """Reloads the page in the other theme (the template's theme is fixed per page load)."""
    other = "default" if theme == "dark" else "dark"
    button = pn.widgets.Button(
        name="Light theme" if theme == "dark" else "Dark theme", button_type="light"
    )
    button.js_on_click(
        code=f"const u = new URL(window.location); u.searchParams.set('theme', '{other}');"
        "window.location = u;"
    )
    return button


def build_page(api_url: str, refresh_ms: int = REFRESH_MS) -> pn.template.BootstrapTemplate:
    store = HealthStore(ApiClient(api_url))
    theme = current_theme()
    # Bootstrap, not Fast or Material: those pull web fonts from the internet, and the
    # workbench must work on an offline machine.
    template = pn.template.BootstrapTemplate(
        title="Sentiment Deep Dive Workbench",
        theme=theme,
        header=[theme_switch(theme)],
        sidebar=[pn.pane.Markdown(f"**API**: `{api_url}`"), "### Sections", "- Health Check"],
        main=[HealthPanel(store=store)],
    )
    pn.state.onload(store.refresh)
    # Panel runs coroutine callbacks on its event loop; its annotation omits them.
    pn.state.add_periodic_callback(store.refresh, period=refresh_ms)  # type: ignore[arg-type]
    return template


if pn.state.served:
    settings = get_settings()
    build_page(settings.api_url or f"http://127.0.0.1:{settings.local_api_port}").servable()

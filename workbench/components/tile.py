"""A header tile as HTML: a big value, its label, and a tooltip saying where the value comes from.

The tooltip is the element's `title`, so the browser shows it on hover with no extra script,
and tests can read it.
"""

from __future__ import annotations

from html import escape

TONES = {"good": "#16a34a", "warn": "#d97706", "bad": "#dc2626", "muted": "#6b7280", "": ""}

# Colours come from the template's own variables where a tone does not set one, so the tiles
# follow the light and dark themes.
TILE_CSS = """
.tile { border: 1px solid rgba(127, 127, 127, 0.35); border-radius: 8px; padding: 8px 12px;
        min-width: 124px; cursor: help; }
.tile .value { font-size: 24px; font-weight: 600; line-height: 1.2; }
.tile .label { font-size: 13px; opacity: 0.75; }
.tile .sub { font-size: 11px; opacity: 0.6; }
"""


def tile_html(label: str, value: str, tooltip: str, *, tone: str = "", sub: str = "") -> str:
    colour = TONES.get(tone, "")
    style = f' style="color:{colour}"' if colour else ""
    subline = f'<div class="sub">{escape(sub)}</div>' if sub else ""
    return (
        f'<div class="tile" title="{escape(tooltip, quote=True)}" data-tile="{escape(label)}">'
        f'<div class="value"{style}>{escape(value)}</div>'
        f'<div class="label">{escape(label)}</div>{subline}</div>'
    )

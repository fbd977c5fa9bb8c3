"""Executed notebooks rendered as HTML reports that draw their charts with no network.

The notebooks load BokehJS and the Panel extension inline (`hv.extension("bokeh",
inline=True)`), so their outputs carry every script a chart needs. Two things are left:

- nbconvert's lab template fetches require.js and MathJax from a CDN. Neither is needed (the
  inline loader does not use require.js, and the notebooks write no TeX): the template used
  here leaves both out.
- A HoloViews chart's Bokeh document names Panel's stylesheets by their CDN address. Each is
  replaced by a `data:` URL of the same file from the installed Panel, so the page holds it.

A report that would still fetch a script or a stylesheet (a notebook executed without
`inline=True`, say) is refused rather than written.

    python -m services.traffic.notebook_report reports/notebooks/*.ipynb
"""

from __future__ import annotations

import base64
import re
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from panel.io.resources import CDN_DIST, DIST_DIR

TEMPLATE = "offline.html.j2"
# The lab template less the two scripts its page fetches from a CDN.
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
"""
PANEL_STYLESHEET = re.compile(re.escape(CDN_DIST) + r"([\w./-]+\.css)(?:\?[\w.=&]*)?")
CSS_RELATIVE_URL = re.compile(r"url\(['\"]?(\.\./[\w./-]+)['\"]?\)")
MEDIA_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}
# What would reach another host: a script element, a Bokeh loader with libraries to fetch,
# a stylesheet imported by a Bokeh document.
REMOTE = (
    re.compile(r"<script[^>]*\ssrc=[\"']?(?:https?:)?//", re.IGNORECASE),
    re.compile(r"const js_urls = \[[^\]]*[\"'](?:https?:)?//"),
    re.compile(r"\"ImportedStyleSheet\"[^}]*\"url\":\"(?:https?:)?//"),
)


class NotSelfContainedError(ValueError):
    """The rendered page would fetch resources from the network."""


def remote_resources(html: str) -> list[str]:
    """What in a page would fetch from another host (empty when self-contained)."""
    return [match.group(0) for pattern in REMOTE for match in pattern.finditer(html)]


def data_url(path: Path) -> str:
    media_type = MEDIA_TYPES.get(path.suffix, "application/octet-stream")
    content = path.read_bytes()
    if path.suffix == ".css":
        # The spinners loading.css names relative to itself travel inside it.
        content = CSS_RELATIVE_URL.sub(
            lambda m: f"url('{data_url((path.parent / m.group(1)).resolve())}')",
            content.decode("utf-8"),
        ).encode("utf-8")
    return f"data:{media_type};base64,{base64.b64encode(content).decode('ascii')}"


def embed_panel_stylesheets(html: str) -> str:
    """Every Panel stylesheet named by its CDN address replaced by the installed file."""

    def local(match: re.Match[str]) -> str:
        path = DIST_DIR / match.group(1)
        return data_url(path) if path.is_file() else match.group(0)

    return PANEL_STYLESHEET.sub(local, html)


def render_html(notebook: Path, output: Path | None = None) -> Path:
    """Write `notebook` as a self-contained HTML page next to it (or at `output`)."""
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        template_name="lab", extra_loaders=[DictLoader({TEMPLATE: OFFLINE_TEMPLATE})]
    )
    exporter.template_file = TEMPLATE
    node = nbformat.read(notebook, as_version=4)  # type: ignore[no-untyped-call]
    with warnings.catch_warnings():
        # The comm manager's empty display data, which no page shows anyway.
        warnings.filterwarnings("ignore", message=".*is not able to be represented")
        html, _ = exporter.from_notebook_node(node)
    html = embed_panel_stylesheets(html)
    remote = remote_resources(html)
    if remote:
        raise NotSelfContainedError(
            f"{notebook.name}: the page would fetch from the network ({remote[0][-80:]}...);"
            ' execute it again with hv.extension("bokeh", inline=True)'
        )
    target = output or notebook.with_suffix(".html")
    target.write_text(html, encoding="utf-8")
    return target


def main(argv: Sequence[str] | None = None) -> int:
    paths = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print("usage: python -m services.traffic.notebook_report NOTEBOOK.ipynb ...")
        return 2
    for path in paths:
        try:
            target = render_html(path)
        except NotSelfContainedError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"{target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

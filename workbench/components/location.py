"""The section in view (and whether the tour is on) kept in the page's URL.

Choosing a section pushes a history entry (`?section=<id>`, `&tour=1` during the tour), so a
link opens the same view and the browser's back button returns to the previous section: the
browser's `popstate` is sent back to the server, which shows what the URL names.
"""

from __future__ import annotations

import param
from panel.custom import JSComponent


class UrlState(JSComponent):
    section = param.String(default="")
    tour = param.Boolean(default=False)
    default_section = param.String(default="", constant=True)

    _esm = """
function shown(model) {
  const query = new URLSearchParams(window.location.search)
  return {
    section: query.get("section") || model.default_section,
    tour: query.get("tour") === "1",
  }
}

export function render({ model }) {
  let first = true
  let pending = false
  const write = () => {
    pending = false
    const now = shown(model)
    if (now.section === model.section && now.tour === model.tour) { first = false; return }
    const url = new URL(window.location.href)
    url.searchParams.set("section", model.section)
    if (model.tour) {
      url.searchParams.set("tour", "1")
    } else {
      url.searchParams.delete("tour")
    }
    // The URL the page was opened with is completed, not added to the history.
    if (first) {
      window.history.replaceState(null, "", url)
    } else {
      window.history.pushState(null, "", url)
    }
    first = false
  }
  // A section and the tour flag change together when the tour starts: one entry for both.
  const later = () => { if (!pending) { pending = true; setTimeout(write, 0) } }
  const back = () => {
    const now = shown(model)
    model.tour = now.tour
    model.section = now.section
  }
  model.on(["section", "tour"], later)
  window.addEventListener("popstate", back)
  model.on("remove", () => window.removeEventListener("popstate", back))
  later()
  return document.createElement("span")
}
"""

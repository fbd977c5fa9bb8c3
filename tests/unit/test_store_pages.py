"""Paginated reads: every page followed, limits asked page by page, a stop ends the reads."""

from __future__ import annotations

from typing import Any

import pytest

from services.store.pages import every_item, pages

pytestmark = pytest.mark.unit


class PagedTable:
    """A query answering `size` items a page (or the request's Limit when smaller)."""

    def __init__(self, total: int, size: int) -> None:
        self.items = [{"n": n} for n in range(total)]
        self.size = size
        self.requests: list[dict[str, Any]] = []

    def query(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        start = request.get("ExclusiveStartKey", {"n": -1})["n"] + 1
        count = min(self.size, request.get("Limit", self.size))
        chunk = self.items[start : start + count]
        page: dict[str, Any] = {"Items": chunk, "Count": len(chunk)}
        if chunk and start + count < len(self.items):
            page["LastEvaluatedKey"] = {"n": chunk[-1]["n"]}
        return page


def test_every_page_is_read_in_order() -> None:
    table = PagedTable(total=7, size=3)
    assert [item["n"] for item in every_item(table.query, {"K": 1})] == list(range(7))
    assert len(table.requests) == 3
    assert all(request["K"] == 1 for request in table.requests)


def test_a_limit_asks_each_page_for_what_is_left_and_stops_there() -> None:
    table = PagedTable(total=100, size=4)
    read = [item for page in pages(table.query, {}, limit=10) for item in page["Items"]]
    assert len(read) == 10
    assert [request["Limit"] for request in table.requests] == [10, 6, 2]


def test_a_page_size_caps_every_request() -> None:
    table = PagedTable(total=5, size=10)
    list(pages(table.query, {}, limit=5, page_size=2))
    assert [request["Limit"] for request in table.requests] == [2, 2, 1]


def test_stopping_early_reads_no_further_page() -> None:
    table = PagedTable(total=100, size=5)
    for page in pages(table.query, {}):
        if page["Items"][-1]["n"] >= 9:
            break
    assert len(table.requests) == 2

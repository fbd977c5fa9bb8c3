"""One way to read a paginated Query or Scan: follow `LastEvaluatedKey` page by page."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

Page = Mapping[str, Any]


def pages(
    read: Callable[..., Page],
    request: Mapping[str, Any],
    *,
    limit: int | None = None,
    page_size: int | None = None,
) -> Iterator[Page]:
    """Each answer of `read` (a table's `query` or `scan`) for `request`, to the last page,
    or until `limit` items were read: a page then asks for no more than is left, and never
    more than `page_size`. A caller that has what it needs just stops iterating."""
    kwargs = dict(request)
    read_so_far = 0
    while limit is None or read_so_far < limit:
        sizes = [n for n in (page_size, None if limit is None else limit - read_so_far) if n]
        if sizes:
            kwargs["Limit"] = min(sizes)
        page = read(**kwargs)
        read_so_far += len(page.get("Items", ()))
        yield page
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def every_item(read: Callable[..., Page], request: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item `request` matches, over all its pages."""
    for page in pages(read, request):
        yield from page.get("Items", ())

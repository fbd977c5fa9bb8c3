"""Query-string values the routes read by hand (after their own checks, e.g. the operator's),
parsed strictly: a refused value is a 400 `BAD_PARAMETER` naming the parameter, never a 500.

`str.isdigit()` and `int()` accept far more than `0-9` (superscripts, other scripts' digits,
`_` separators, surrounding spaces); a whole number here is ASCII digits only, and short, so
no caller makes the parse itself expensive.
"""

from __future__ import annotations

import re

from services.api.errors import ApiError

_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def bounded_whole_number(raw: str | None, *, name: str, low: int, high: int, default: int) -> int:
    """`raw` as a whole number from `low` to `high`; `default` when the parameter is absent."""
    if raw is None:
        return default
    if _WHOLE_NUMBER.fullmatch(raw) is None or not low <= int(raw) <= high:
        raise ApiError(
            400,
            "BAD_PARAMETER",
            f"{name} must be a whole number from {low} to {high}",
            {"field": name},
        )
    return int(raw)

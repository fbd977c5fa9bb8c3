"""A user's configuration by id, from the cached list the routes share.

The list is cached per execution environment and every mutation drops the copy of the
environment that made it; another environment keeps its copy for the cache's TTL. A
configuration created elsewhere is therefore missing from a cached copy, never wrong in it: a
miss in a cached list asks the table once before the answer is "not found" (the rare path pays
the read, the warm path still touches no table).
"""

from __future__ import annotations

from collections.abc import Callable

from services.caching.ttl import TtlCache
from services.store.models import Configuration


def listed_configuration(
    lists: TtlCache[list[Configuration]],
    user_id: str,
    config_id: str,
    load: Callable[[], list[Configuration]],
) -> Configuration | None:
    """The user's configuration `config_id`, or None when the table has no such one of
    theirs (another user's configuration is as absent as a missing one)."""
    configs, cached = lists.get_or_load(user_id, load)
    found = next((c for c in configs if c.config_id == config_id), None)
    if found is None and cached:
        lists.invalidate(user_id)
        configs, _ = lists.get_or_load(user_id, load)
        found = next((c for c in configs if c.config_id == config_id), None)
    return found

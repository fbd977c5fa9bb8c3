"""Retiring anonymous users whose last session ended more than a grace period ago.

Run by the notification function on every invocation (once a minute), a bounded batch each
time: an idle run costs one query. What retiring deletes, and why TTL alone is not used, is
described in `services.store.anonymous_users`.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.clock import Clock
from services.store.anonymous_users import AnonymousUserStore


@dataclass
class CleanupSummary:
    due: int = 0
    retired: int = 0
    # Due entries of users who signed in or were renewed meanwhile: only the entry goes.
    kept: int = 0


def retire_expired_anonymous_users(
    store: AnonymousUserStore, clock: Clock, *, limit: int
) -> CleanupSummary:
    now = clock()
    summary = CleanupSummary()
    for due in store.due(now, limit=limit):
        summary.due += 1
        if store.retire(due, now):
            summary.retired += 1
        else:
            summary.kept += 1
    return summary

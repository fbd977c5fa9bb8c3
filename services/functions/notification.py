"""The notification function: delivers the outbox, and queues the daily digest.

Invoked by two schedules: every minute (deliver what is due) and once a day (queue each
account's digest, then deliver). An event `{"action": "digest"}` or a scheduled event from
a rule whose name contains "digest" means the second. Every run then retires a batch of the
anonymous users past their expiry (`services.auth.anonymous_cleanup`).
"""

from __future__ import annotations

from typing import Any

from services.composition.notification import deployed_notification
from services.notifications.run import NotificationDependencies, run_notifications


def wants_digest(event: dict[str, Any]) -> bool:
    if event.get("action") == "digest":
        return True
    return any("digest" in str(resource) for resource in event.get("resources") or [])


def handler(
    event: dict[str, Any], context: Any, deps: NotificationDependencies | None = None
) -> dict[str, Any]:
    return run_notifications(deps or deployed_notification(), digest=wants_digest(event))

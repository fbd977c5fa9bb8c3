"""The user's notifications: what was sent (or shown in the app), e-mail preferences, and
the unsubscribe link every alert and digest e-mail carries."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter
from pydantic import BaseModel, ConfigDict

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.principal import current_principal
from services.api.schemas import Strict
from services.clock import iso
from services.notifications.unsubscribe import (
    UNSUBSCRIBE_PATH,
    signing_key,
    verify,
)
from services.store.outbox import OutboxEmail
from services.store.preferences import EmailPreferences


class NotificationOut(BaseModel):
    notification_id: str
    kind: str
    # queued | sending | sent | failed | expired | suppressed (daily limit) | in_app
    status: str
    subject: str
    created_at: str
    sent_at: str | None
    attempts: int
    last_error: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, email: OutboxEmail) -> NotificationOut:
        return cls(
            notification_id=email.email_id,
            kind=email.kind,
            status=email.state,
            subject=email.subject,
            created_at=iso(email.created_at),
            sent_at=iso(email.sent_at) if email.sent_at else None,
            attempts=email.attempts,
            last_error=email.last_error,
            details=email.details,
        )


class NotificationList(BaseModel):
    notifications: list[NotificationOut]


class PreferencesOut(BaseModel):
    alert_emails: bool
    digest_emails: bool

    @classmethod
    def of(cls, preferences: EmailPreferences) -> PreferencesOut:
        return cls(alert_emails=preferences.alert_emails, digest_emails=preferences.digest_emails)


class PreferencesPatch(Strict):
    model_config = ConfigDict(json_schema_extra={"examples": [{"digest_emails": False}]})
    alert_emails: bool | None = None
    digest_emails: bool | None = None


UNSUBSCRIBED_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>Unsubscribed</title></head>"
    "<body style='font-family:sans-serif'><p>You will no longer receive {what} e-mails.</p>"
    "<p>You can turn them back on in the dashboard's settings.</p></body></html>"
)


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    @router.get("/api/v2/notifications", tags=["notifications"])
    def list_notifications(
        limit: Annotated[int, Query(ge=1, le=100)] = 50,
    ) -> NotificationList:
        principal = current_principal(router, deps)
        emails = deps.store.outbox.list_for_user(principal.user.user_id, limit=limit)
        return NotificationList(notifications=[NotificationOut.of(e) for e in emails])

    @router.get("/api/v2/notifications/preferences", tags=["notifications"])
    def get_preferences() -> PreferencesOut:
        principal = current_principal(router, deps)
        return PreferencesOut.of(deps.store.preferences.get(principal.user.user_id))

    @router.patch("/api/v2/notifications/preferences", tags=["notifications"])
    def update_preferences(body: PreferencesPatch) -> PreferencesOut:
        principal = current_principal(router, deps)
        changed = deps.store.preferences.update(
            principal.user.user_id,
            deps.clock(),
            alert_emails=body.alert_emails,
            digest_emails=body.digest_emails,
        )
        return PreferencesOut.of(changed)

    @router.get(UNSUBSCRIBE_PATH, tags=["notifications"])
    def unsubscribe(
        token: Annotated[str, Query(min_length=10, max_length=512)],
    ) -> Response[str]:
        # Opened from an e-mail: the signed token is the authority, no bearer is needed.
        key = signing_key(deps.settings)
        if key is None:
            raise ApiError(501, "NOT_AVAILABLE", "unsubscribe links are not configured here")
        request = verify(key, token)
        alerts = request.email_list == "alerts"
        deps.store.preferences.update(
            request.user_id,
            deps.clock(),
            alert_emails=False if alerts else None,
            digest_emails=None if alerts else False,
        )
        what = "alert" if alerts else "digest"
        return Response(200, content_types.TEXT_HTML, UNSUBSCRIBED_PAGE.format(what=what))

    return router

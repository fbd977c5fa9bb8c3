"""Sign-in routes: anonymous sessions, who am I, sign out."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.openapi import created
from services.api.principal import current_principal
from services.api.schemas import MeOut, SessionOut, SignedOut
from services.auth.sessions import limits_for, start_anonymous_session


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    @router.post("/api/v2/auth/anonymous", tags=["auth"], responses=created(SessionOut))
    def anonymous() -> Response[SessionOut]:
        issued = start_anonymous_session(
            deps.store.users, deps.store.sessions, deps.settings, deps.clock
        )
        return Response(201, content_types.APPLICATION_JSON, SessionOut.of(issued))

    @router.get("/api/v2/auth/me", tags=["auth"])
    def me() -> MeOut:
        principal = current_principal(router, deps)
        used = len(deps.configurations.list(principal))
        return MeOut.of(principal, limits_for(principal.user, deps.settings), used)

    @router.post("/api/v2/auth/signout", tags=["auth"])
    def signout() -> SignedOut:
        principal = current_principal(router, deps)
        deps.store.sessions.revoke(principal.session, deps.clock())
        return SignedOut(session_id=principal.session.session_id)

    return router

"""The calling user of a protected route, from its bearer token (checked on every request)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.operator import bearer_token
from services.auth.sessions import AuthenticationError, Principal, authenticate


def current_principal(router: LambdaFunctionUrlRouter, deps: ApiDependencies) -> Principal:
    try:
        return authenticate(
            bearer_token(router.current_event.headers), deps.sessions, deps.users, deps.clock
        )
    except AuthenticationError as error:
        raise ApiError(401, "UNAUTHORIZED", str(error)) from None


def optional_principal(router: LambdaFunctionUrlRouter, deps: ApiDependencies) -> Principal | None:
    """The caller's session when the request carries a usable bearer, else None: for open
    routes where a session only changes what happens (e.g. converting anonymous data)."""
    token = bearer_token(router.current_event.headers)
    if token is None:
        return None
    try:
        return authenticate(token, deps.sessions, deps.users, deps.clock)
    except AuthenticationError:
        return None

"""The calling user of a protected route, from its bearer token (checked on every request)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.operator import bearer_token
from services.auth.sessions import AuthenticationError, Principal, authenticate
from services.store.sessions import token_hash


def current_principal(router: LambdaFunctionUrlRouter, deps: ApiDependencies) -> Principal:
    try:
        return cached_authenticate(bearer_token(router.current_event.headers), deps)
    except AuthenticationError as error:
        raise ApiError(401, "UNAUTHORIZED", str(error)) from None


def cached_authenticate(token: str | None, deps: ApiDependencies) -> Principal:
    """`authenticate`, answered from the session cache when it can be. Refusals are never
    cached, and a cached session is still refused the moment it expires."""
    if not token:
        raise AuthenticationError("this route needs an Authorization: Bearer token")
    key = token_hash(token)
    principal, _ = deps.principals.get_or_load(
        key, lambda: authenticate(token, deps.sessions, deps.users, deps.clock)
    )
    if principal.session.expires_at <= deps.clock():
        deps.principals.invalidate(key)
        raise AuthenticationError("the bearer token is unknown, expired or revoked")
    return principal


def optional_principal(router: LambdaFunctionUrlRouter, deps: ApiDependencies) -> Principal | None:
    """The caller's session when the request carries a usable bearer, else None: for open
    routes where a session only changes what happens (e.g. converting anonymous data)."""
    token = bearer_token(router.current_event.headers)
    if token is None:
        return None
    try:
        return cached_authenticate(token, deps)
    except AuthenticationError:
        return None

"""The calling user of a protected route, from its bearer token (checked on every request)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.operator import bearer_token
from services.auth.sessions import AuthenticationError, Principal
from services.store.errors import CLIENT_FAILURES, NotFoundError
from services.store.models import Session, User
from services.store.sessions import token_hash


@dataclass(frozen=True, slots=True)
class _Checked:
    """The outcome of checking one bearer token before the request was resolved."""

    token: str
    principal: Principal | None
    refusal: AuthenticationError | None


_checked_beforehand: ContextVar[_Checked | None] = ContextVar("checked_beforehand", default=None)


@contextmanager
def authenticated_beforehand(headers: Mapping[str, str], deps: ApiDependencies) -> Iterator[None]:
    """Check the request's bearer token now, for the routes to use while it is resolved; the
    function calls this before it takes the resolver's lock, so the session read overlaps
    with other requests. Without a token there is nothing to check.

    Only for a request the rate limit counted and admitted (`services/api/rate_limiting.py`,
    called first by `services/functions/dashboard.py`): a caller cannot make the function
    read sessions faster than its limit, whatever tokens it makes up."""
    token = bearer_token(headers)
    checked = None
    if token is not None:
        try:
            checked = _Checked(token, cached_authenticate(token, deps), None)
        except AuthenticationError as refusal:
            checked = _Checked(token, None, refusal)
        except CLIENT_FAILURES:
            # The table did not answer: the route checks again inside the resolver, whose
            # error handlers turn that failure into the documented 503.
            checked = None
    reset = _checked_beforehand.set(checked)
    try:
        yield
    finally:
        _checked_beforehand.reset(reset)


def current_principal(router: LambdaFunctionUrlRouter, deps: ApiDependencies) -> Principal:
    return _authenticate_request(bearer_token(router.current_event.headers), deps)


def _authenticate_request(token: str | None, deps: ApiDependencies) -> Principal:
    """The check made before resolving when it was of this very token, else a fresh one."""
    checked = _checked_beforehand.get()
    if checked is None or token is None or checked.token != token:
        return cached_authenticate(token, deps)
    if checked.refusal is not None:
        raise checked.refusal
    assert checked.principal is not None
    return checked.principal


def cached_authenticate(token: str | None, deps: ApiDependencies) -> Principal:
    """`authenticate` with the account behind the session taken from the instance's cache.
    The session is read every time: existence, expiry and revocation are checked on every
    request, whichever instance revoked it."""
    if not token:
        raise AuthenticationError("this route needs an Authorization: Bearer token")
    session = deps.store.sessions.find_by_token_hash(token_hash(token), deps.clock())
    if session is None:
        raise AuthenticationError("the bearer token is unknown, expired or revoked")
    try:
        user = _account_behind(session, deps)
    except NotFoundError:
        raise AuthenticationError("the bearer token's account no longer exists") from None
    return Principal(user, session)


def _account_behind(session: Session, deps: ApiDependencies) -> User:
    """The session's user from the cache, unless the cached copy is older than the session:
    a session opened after an upgrade on another instance carries the upgraded version, so
    this instance never serves it the anonymous copy (limits, e-mail) it kept."""
    load = partial(deps.store.users.get, session.user_id)
    user, _ = deps.accounts.get_or_load(session.user_id, load)
    if session.account_version is not None and user.version < session.account_version:
        deps.accounts.invalidate(session.user_id)
        user, _ = deps.accounts.get_or_load(session.user_id, load)
    return user


def optional_principal(router: LambdaFunctionUrlRouter, deps: ApiDependencies) -> Principal | None:
    """The caller's session when the request carries a usable bearer, else None: for open
    routes where a session only changes what happens (e.g. converting anonymous data)."""
    token = bearer_token(router.current_event.headers)
    if token is None:
        return None
    try:
        return _authenticate_request(token, deps)
    except AuthenticationError:
        return None

"""The one table from errors to the API's envelope: status, code, message, details, headers.

Domain errors carry what their answer needs (the field at fault, the reason, how long to wait);
this table says which HTTP answer each kind is. Routes raise and never translate, and the app
registers one handler for every kind listed here. An error matches the first of its classes
(most specific first) that the table lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from services.alerts.manage import AlertNotAllowedError, InvalidAlertError
from services.api.errors import ApiError
from services.auth.magic_link import (
    EmailNotSentError,
    InvalidEmailError,
    InvalidLinkError,
    LinkExpiredError,
    LinkUsedError,
)
from services.auth.oauth import (
    CodeRejectedError,
    InvalidIdTokenError,
    InvalidStateError,
    OAuthUnavailableError,
    StateExpiredError,
    StateMismatchError,
    StateUsedError,
    UnknownProviderError,
)
from services.auth.sessions import AuthenticationError
from services.configurations.manage import InvalidConfigurationError
from services.market.fetch_limits import FetchLimitReachedError, SignInToFetchError
from services.market.prices import NoPricesError, PricesUnavailableError
from services.notifications.unsubscribe import InvalidUnsubscribeTokenError
from services.ops.model_card import ModelCardMissingError, ModelCardUnreadableError
from services.resilience.allowance import AllowanceExceededError
from services.resilience.breaker import CircuitOpenError
from services.resilience.chaos import ChaosUnavailableError, EmulatorControlError
from services.resilience.quota import QuotaExhaustedError
from services.store.errors import ConflictError, LimitReachedError, NotFoundError

E = TypeVar("E", bound=Exception)
# How long to wait before switching an emulator that did not answer again.
EMULATOR_RETRY_AFTER_S = 5


@dataclass(frozen=True)
class Envelope:
    status: int
    code: str
    message: str
    details: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Answer = Callable[[Exception], Envelope]
ERROR_MAP: dict[type[Exception], Answer] = {}


def answers(
    kind: type[E],
    status: int,
    code: str,
    *,
    message: Callable[[E], str] = str,
    details: Callable[[E], Any] | None = None,
    headers: Callable[[E], dict[str, str]] | None = None,
) -> None:
    def envelope(error: E) -> Envelope:
        return Envelope(
            status,
            code,
            message(error),
            details(error) if details else None,
            headers(error) if headers else {},
        )

    ERROR_MAP[kind] = cast(Answer, envelope)


def envelope_of(error: Exception) -> Envelope | None:
    """The answer to `error`, or None for an error no answer is planned for (a 500)."""
    for kind in type(error).__mro__:
        answer = ERROR_MAP.get(kind)
        if answer is not None:
            return answer(error)
    return None


def retry_after(seconds: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def _field(name: str) -> Callable[[Exception], dict[str, Any]]:
    return lambda error: {"field": getattr(error, "field", name)}


# An error the API itself raised, already in the envelope's terms.
ERROR_MAP[ApiError] = cast(
    Answer,
    lambda e: Envelope(e.status, e.code, e.message, e.details, e.headers),
)

# Requests whose content is wrong.
answers(InvalidAlertError, 400, "INVALID_ALERT", details=_field("alert"))
answers(InvalidConfigurationError, 400, "INVALID_CONFIGURATION", details=_field("configuration"))
answers(InvalidEmailError, 400, "INVALID_EMAIL", details=_field("email"))
answers(UnknownProviderError, 400, "UNKNOWN_PROVIDER", details=_field("provider"))
answers(InvalidStateError, 400, "INVALID_STATE")
answers(StateMismatchError, 400, "STATE_MISMATCH")
answers(CodeRejectedError, 400, "INVALID_CODE", details=lambda e: {"provider_error": e.error})
answers(InvalidLinkError, 400, "INVALID_LINK")
answers(InvalidUnsubscribeTokenError, 400, "INVALID_LINK")

# Who is asking.
answers(AuthenticationError, 401, "UNAUTHORIZED")
answers(InvalidIdTokenError, 401, "INVALID_ID_TOKEN", details=lambda e: {"reason": e.reason})
answers(
    SignInToFetchError,
    401,
    "UNAUTHORIZED",
    details=lambda e: {"sign_in": "POST /api/v2/auth/anonymous"},
)
answers(AlertNotAllowedError, 403, "NOT_ALLOWED")

# What is (or is no longer) there.
answers(NotFoundError, 404, "NOT_FOUND")
answers(ModelCardMissingError, 404, "NOT_FOUND")
answers(NoPricesError, 404, "UNKNOWN_TICKER", details=lambda e: {"ticker": e.ticker})
answers(LimitReachedError, 409, "LIMIT_REACHED")
answers(ConflictError, 409, "CONFLICT", message=lambda e: f"{e}; read it again and retry")
answers(LinkUsedError, 409, "LINK_USED")
answers(StateUsedError, 409, "STATE_USED")
answers(LinkExpiredError, 410, "LINK_EXPIRED")
answers(StateExpiredError, 410, "STATE_EXPIRED")
answers(
    ChaosUnavailableError,
    409,
    "CHAOS_UNAVAILABLE",
    details=lambda e: {"scenario": e.scenario, "providers": list(e.providers)},
)

# A caller's allowance used up.
answers(
    AllowanceExceededError,
    429,
    "RATE_LIMITED",
    message=lambda e: f"{e}; retry in {e.retry_after_s} s",
    details=lambda e: {
        "limit": e.allowance.name,
        "max_requests": e.allowance.limit,
        "per": e.allowance.per,
        "retry_after_s": e.retry_after_s,
    },
    headers=lambda e: retry_after(e.retry_after_s),
)
# The price routes' own allowances, answered as the allowance that is used up.
ERROR_MAP[FetchLimitReachedError] = cast(
    Answer, lambda e: ERROR_MAP[AllowanceExceededError](e.exceeded)
)

# The project's own file is wrong: the operator is told how to mend it.
answers(
    ModelCardUnreadableError,
    500,
    "INTERNAL_ERROR",
    message=lambda e: f"{e}: rebuild it with `make model`",
)

# A dependency down or spent for now; each refusal knows for how long.
answers(
    EmulatorControlError,
    503,
    "EMULATOR_UNAVAILABLE",
    details=lambda e: {"provider": e.provider, "retry_after_s": EMULATOR_RETRY_AFTER_S},
    headers=lambda e: retry_after(EMULATOR_RETRY_AFTER_S),
)
answers(
    CircuitOpenError,
    503,
    "PROVIDER_UNAVAILABLE",
    message=lambda e: f"{e.service} is unavailable right now; try again later",
    details=lambda e: {"provider": e.service, "retry_after_s": int(e.retry_after_header)},
    headers=lambda e: {"Retry-After": e.retry_after_header},
)
answers(
    QuotaExhaustedError,
    503,
    "QUOTA_EXHAUSTED",
    message=lambda e: f"the {e.service} quota of this period is used up; try again after it resets",
    details=lambda e: {
        "provider": e.service,
        "quota": e.quota,
        "retry_after_s": int(e.retry_after_header),
    },
    headers=lambda e: {"Retry-After": e.retry_after_header},
)
ERROR_MAP[PricesUnavailableError] = cast(
    Answer,
    lambda e: Envelope(
        503,
        "QUOTA_EXHAUSTED" if e.quota_exhausted else "PROVIDER_UNAVAILABLE",
        str(e),
        {"provider": "tiingo", "retry_after_s": e.retry_after_s},
        {"Retry-After": str(e.retry_after_s)},
    ),
)
ERROR_MAP[EmailNotSentError] = cast(
    Answer,
    lambda e: Envelope(
        503,
        "QUOTA_EXHAUSTED" if e.quota_exhausted else "EMAIL_UNAVAILABLE",
        "today's e-mail quota for sign-in links is used up; try again after it resets"
        if e.quota_exhausted
        else "could not send the e-mail now; try again",
        {"link_withdrawn": True},
        retry_after(e.retry_after_s),
    ),
)
answers(
    OAuthUnavailableError,
    503,
    "OAUTH_UNAVAILABLE",
    message=lambda e: "the sign-in provider is unavailable; try again",
    headers=lambda e: retry_after(e.retry_after_s),
)

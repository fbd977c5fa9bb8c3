"""Provider errors. `counts_as_failure` tells a circuit breaker whether to count it.

What counts is evidence that the provider cannot serve us right now: timeouts, 5xx, 429 and
spent allowances, a refused key or a blocked account, malformed answers. What does not is an
answer about one request or about our own configuration from a provider that is otherwise
answering: an unknown ticker (404), a malformed request (400), an endpoint the key's plan does
not include (`ProviderNotEntitledError`: the other endpoints of the same key still work, so a
provider-wide circuit must not open), a sender address SendGrid has not verified
(`EmailSenderNotVerifiedError`: SendGrid is healthy, the fix is ours).

`endpoint` names (stable, whatever the path or its ticker): Tiingo `news`, `daily_prices`,
`intraday_prices`; Finnhub `company_news`, `news_sentiment`, `candles`; SendGrid `mail_send`.
"""

from __future__ import annotations

from typing import Literal

# The allowance a `ProviderQuotaExceededError` says is spent, when the provider's words tell.
QuotaScope = Literal["hour", "day", "month_symbols", "month_bandwidth"]


class ProviderError(Exception):
    counts_as_failure = True

    def __init__(self, provider: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.status = status


class ProviderTimeoutError(ProviderError):
    """No answer within the adapter's timeout."""


class ProviderUnavailableError(ProviderError):
    """A 5xx, or the connection failed."""


class ProviderRateLimitedError(ProviderError):
    """429: the provider's own rate limit."""

    def __init__(
        self,
        provider: str,
        message: str,
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(provider, message, status)
        self.retry_after = retry_after


class ProviderQuotaExceededError(ProviderRateLimitedError):
    """The key's plan allowance for a period is spent (Tiingo's hourly or daily request
    allocation, its monthly unique-symbol cap, ...), whatever status carried the news: Tiingo
    says so with a 200 as often as with a 429.

    `scope` is the period when the provider's message names it, else None; `retry_after` is
    then the seconds to the next UTC boundary of that period (a `Retry-After` header wins),
    else None. `reason` is the provider's own message."""

    def __init__(
        self,
        provider: str,
        message: str,
        status: int | None = 429,
        retry_after: float | None = None,
        *,
        scope: QuotaScope | None = None,
        reason: str = "",
    ) -> None:
        super().__init__(provider, message, status, retry_after)
        self.scope: QuotaScope | None = scope
        self.reason = reason


class ProviderAuthError(ProviderError):
    """401, or a 403 that is about the key: it is wrong, revoked or lacks the permission."""


class _ExplainedForbiddenError(ProviderError):
    """A 403 the provider explains: its own message is kept as `reason`."""

    def __init__(
        self, provider: str, message: str, status: int | None = 403, *, reason: str = ""
    ) -> None:
        super().__init__(provider, message, status)
        self.reason = reason


class ProviderNotEntitledError(_ExplainedForbiddenError):
    """403: the endpoint is not in the key's plan (Tiingo's "You do not have permission to
    access the News API", Finnhub's "You don't have access to this resource."). The key is good
    and its other endpoints still answer: an operator must change the plan or stop calling this
    one, and the provider's health is not in question, so it never trips a breaker.

    `endpoint` is the stable name of the endpoint (see the module's docstring), `reason` the
    provider's own message."""

    counts_as_failure = False

    def __init__(
        self, provider: str, message: str, status: int | None = 403, *, endpoint: str, reason: str
    ) -> None:
        super().__init__(provider, message, status, reason=reason)
        self.endpoint = endpoint


class ProviderForbiddenError(_ExplainedForbiddenError):
    """403 for a reason that is neither the key, nor the plan, nor the request: the account is
    blocked for a while or under review. Nothing goes through until the provider lifts it, so
    it counts as a failure; `reason` keeps the provider's message for the operator."""


class EmailSenderNotVerifiedError(_ExplainedForbiddenError):
    """SendGrid's 403 on the `from` field: the sender address is not a verified Sender
    Identity. A configuration fault of ours (verify the address or change the sender), not a
    sign of SendGrid's health, so it does not trip the breaker; the e-mail stays queued and is
    retried with the outbox's backoff, so it goes out once the sender is verified.
    `reason` is SendGrid's message, `field` the field it names."""

    counts_as_failure = False

    def __init__(
        self,
        provider: str,
        message: str,
        status: int | None = 403,
        *,
        reason: str,
        field: str | None = "from",
    ) -> None:
        super().__init__(provider, message, status, reason=reason)
        self.field = field


class ProviderNotFoundError(ProviderError):
    """404 for an unknown ticker: a fact about the request, not about the provider's health."""

    counts_as_failure = False


class ProviderBadRequestError(ProviderError):
    """400: our request was malformed."""

    counts_as_failure = False


class ProviderResponseError(ProviderError):
    """A 2xx whose body is not what the provider documents."""

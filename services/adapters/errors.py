"""Provider errors. `counts_as_failure` tells a circuit breaker whether to count it."""

from __future__ import annotations


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


class ProviderAuthError(ProviderError):
    """401/403: the key is wrong or lacks access."""


class ProviderNotFoundError(ProviderError):
    """404 for an unknown ticker: a fact about the request, not about the provider's health."""

    counts_as_failure = False


class ProviderBadRequestError(ProviderError):
    """400: our request was malformed."""

    counts_as_failure = False


class ProviderResponseError(ProviderError):
    """A 2xx whose body is not what the provider documents."""

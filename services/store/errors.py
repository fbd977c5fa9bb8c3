"""Errors of the data layer. The API maps each to one HTTP status in one place."""

from __future__ import annotations

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError


class StoreError(Exception):
    """Base class of every data-layer error."""


class NotFoundError(StoreError):
    """The item does not exist, is expired, or is soft-deleted."""


class ConflictError(StoreError):
    """A conditional write lost: the item exists already or changed since it was read."""


class LimitReachedError(StoreError):
    """A per-user limit (e.g. configurations) would be exceeded."""


class TokenUsedError(StoreError):
    """A single-use token was already consumed."""


class TokenExpiredError(StoreError):
    """A token exists but its lifetime is over."""


# DynamoDB answers that mean "down or overloaded now" rather than "this request is wrong",
# once the client's own retries are spent.
_UNAVAILABLE_CODES = frozenset(
    {
        "InternalServerError",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ThrottlingException",
    }
)
# What the store's client raises: every failure the API must classify comes as one of these.
CLIENT_FAILURES: tuple[type[Exception], ...] = (BotoConnectionError, HTTPClientError, ClientError)


def store_unavailable(error: Exception) -> bool:
    """True when the store could not be reached or refused for load: worth a retry later."""
    if isinstance(error, ClientError):
        return error.response.get("Error", {}).get("Code") in _UNAVAILABLE_CODES
    return isinstance(error, BotoConnectionError | HTTPClientError)

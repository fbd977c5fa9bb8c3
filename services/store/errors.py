"""Errors of the data layer. The API maps each to one HTTP status in one place."""

from __future__ import annotations


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

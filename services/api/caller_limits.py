"""What the routes with per-caller allowances share: the caller's network address as the
allowances count it, and the 429 an exhausted allowance is answered with."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.errors import ApiError
from services.api.rate_limiting import address_key
from services.resilience.allowance import AllowanceExceededError


def client_address(router: LambdaFunctionUrlRouter) -> str:
    """The Function URL's `sourceIp` (IPv6 by its /64), never `X-Forwarded-For`, which a
    caller writes itself."""
    context = router.current_event.raw_event.get("requestContext") or {}
    http = context.get("http") or {}
    return address_key(str(http.get("sourceIp") or ""))


def allowance_exceeded(error: AllowanceExceededError) -> ApiError:
    """429 `RATE_LIMITED`, naming the allowance that is used up and when it resets."""
    allowance = error.allowance
    return ApiError(
        429,
        "RATE_LIMITED",
        f"{error}; retry in {error.retry_after_s} s",
        {
            "limit": allowance.name,
            "max_requests": allowance.limit,
            "per": allowance.per,
            "retry_after_s": error.retry_after_s,
        },
        {"Retry-After": str(error.retry_after_s)},
    )

"""The caller's network address, as the per-caller allowances count it."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.rate_limiting import address_key


def client_address(router: LambdaFunctionUrlRouter) -> str:
    """The Function URL's `sourceIp` (IPv6 by its /64), never `X-Forwarded-For`, which a
    caller writes itself."""
    context = router.current_event.raw_event.get("requestContext") or {}
    http = context.get("http") or {}
    return address_key(str(http.get("sourceIp") or ""))

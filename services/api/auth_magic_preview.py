"""`POST /api/v2/auth/magic-link/preview`: who a link would sign in as, without using it.

A page opened with `?magic_token=` asks this first and signs in only when the person confirms
the (masked) address is theirs; see `services.auth.magic_link_preview` for why.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.schemas import MagicLinkPreviewIn, MagicLinkPreviewOut
from services.auth.magic_link_preview import preview_link
from services.clock import iso


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()

    # POST, not GET: the token is a secret and stays out of URLs and access logs.
    @router.post("/api/v2/auth/magic-link/preview", tags=["auth"])
    def preview(body: MagicLinkPreviewIn) -> MagicLinkPreviewOut:
        found = preview_link(body.token, deps.store.tokens, deps.clock)
        return MagicLinkPreviewOut(email_hint=found.email_hint, expires_at=iso(found.expires_at))

    return router

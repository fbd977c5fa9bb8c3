"""Magic-link sign-in: ask for a link by e-mail, then trade its token for a session."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.adapters.email import GuardedEmailSender
from services.api.caller_limits import client_address
from services.api.dependencies import ApiDependencies
from services.api.principal import optional_principal
from services.api.schemas import MagicLinkIn, MagicLinkSent, MagicLinkVerifyIn, SignedInOut
from services.auth.magic_link import (
    SIGN_IN_SHARE,
    MagicLinks,
)
from services.auth.sessions import Principal


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()
    settings = deps.settings
    # Through SendGrid's circuit and daily quota, within the sign-in share of it (anybody can
    # ask for a link; alerts and digests keep the rest). A person is waiting for the link, so
    # it may use the share's reserve.
    guarded = GuardedEmailSender(deps.email_sender, deps.guard, priority=True, share=SIGN_IN_SHARE)
    links = MagicLinks(
        deps.store.tokens,
        guarded,
        deps.account_sign_in,
        settings,
        deps.clock,
        deps.sign_in_limits,
    )

    def caller() -> Principal | None:
        # Both routes are open to anyone: a stale or unknown bearer only means there is
        # nothing to convert.
        return optional_principal(router, deps)

    @router.post(
        "/api/v2/auth/magic-link",
        tags=["auth"],
        responses={
            202: {
                "description": "The e-mail was handed to the provider",
                "content": {"application/json": {"model": MagicLinkSent}},
            }
        },
    )
    def request_link(body: MagicLinkIn) -> Response[MagicLinkSent]:
        sent = links.request(body.email, caller(), client_address=client_address(router))
        out = MagicLinkSent(expires_in_seconds=sent.expires_in_seconds)
        return Response(202, content_types.APPLICATION_JSON, out)

    @router.post("/api/v2/auth/magic-link/verify", tags=["auth"])
    def verify_link(body: MagicLinkVerifyIn) -> SignedInOut:
        signed = links.verify(body.token, caller())
        deps.forget_sign_in(signed)
        return SignedInOut.of_sign_in(signed)

    return router

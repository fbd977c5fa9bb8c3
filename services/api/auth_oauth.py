"""OAuth sign-in (Google through Cognito): authorize URLs, then a callback code for a session."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.router import LambdaFunctionUrlRouter

from services.api.dependencies import ApiDependencies
from services.api.errors import ApiError
from services.api.principal import optional_principal
from services.api.schemas import OAuthCallbackIn, OAuthProviderOut, OAuthUrls, SignedInOut
from services.auth.oauth import PROVIDERS, OAuthSignIn, new_binding

# A deployment without provider settings will not get them by waiting; an hour is a hint.
_NOT_CONFIGURED_RETRY_S = 3600


def build_router(deps: ApiDependencies) -> LambdaFunctionUrlRouter:
    router = LambdaFunctionUrlRouter()
    journey = deps.oauth_sign_in

    def configured() -> OAuthSignIn:
        if journey is None:
            raise ApiError(
                503,
                "OAUTH_NOT_CONFIGURED",
                "OAuth sign-in is not configured here; use the e-mail link",
                headers={"Retry-After": str(_NOT_CONFIGURED_RETRY_S)},
            )
        return journey

    @router.get(
        "/api/v2/auth/oauth/urls",
        tags=["auth"],
        responses={
            200: {
                "description": "One authorize URL per provider, each with a fresh state",
                "content": {"application/json": {"model": OAuthUrls}},
            }
        },
    )
    def urls() -> Response[OAuthUrls]:
        sign_in = configured()
        caller = optional_principal(router, deps)
        # One binding per answer: its states are accepted only from the client that keeps it.
        binding = new_binding()
        out = OAuthUrls(
            providers={
                name: OAuthProviderOut(authorize_url=sign_in.authorize_url(name, caller, binding))
                for name in PROVIDERS
            },
            binding=binding,
        )
        # Every answer holds new single-use states: nothing in between may keep or replay it.
        return Response(
            200, content_types.APPLICATION_JSON, out, headers={"Cache-Control": "no-store"}
        )

    @router.post("/api/v2/auth/oauth/callback", tags=["auth"])
    def callback(body: OAuthCallbackIn) -> SignedInOut:
        sign_in = configured()
        signed = sign_in.complete(
            body.provider,
            body.code,
            body.state,
            optional_principal(router, deps),
            body.binding,
        )
        deps.forget_sign_in(signed)
        return SignedInOut.of_sign_in(signed)

    return router

"""The clients of the external services: the providers' adapters and AWS's."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import httpx

from services.adapters.email import SendGridEmailSender
from services.adapters.finnhub import FinnhubAdapter
from services.adapters.tiingo import TiingoAdapter
from services.auth.oauth import OAuthProvider, OidcClient
from services.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_sns.client import SNSClient


def tiingo_adapter(settings: Settings) -> TiingoAdapter:
    return TiingoAdapter(
        settings.tiingo_base_url,
        settings.tiingo_api_key.get_secret_value(),
        timeout_s=settings.http_timeout_s,
    )


def finnhub_adapter(settings: Settings) -> FinnhubAdapter:
    return FinnhubAdapter(
        settings.finnhub_base_url,
        settings.finnhub_api_key.get_secret_value(),
        timeout_s=settings.http_timeout_s,
    )


def email_sender(settings: Settings) -> SendGridEmailSender:
    return SendGridEmailSender(
        settings.sendgrid_base_url,
        settings.sendgrid_api_key.get_secret_value(),
        from_address=settings.email_from_address,
        from_name=settings.email_from_name,
        timeout_s=settings.http_timeout_s,
    )


def oidc_client(settings: Settings, http: httpx.Client | None = None) -> OidcClient | None:
    """The OAuth provider's token endpoint and key set; None where no provider is configured.
    One HTTP client per process, so the key set is fetched once, not per sign-in."""
    provider = OAuthProvider.from_settings(settings)
    if provider is None:
        return None
    return OidcClient(provider, http or httpx.Client(timeout=settings.http_timeout_s))


def sns_client(settings: Settings) -> SNSClient:
    """The analysis topic's client (the only SNS client the functions use)."""
    return boto3.session.Session().client("sns", region_name=settings.aws_region)

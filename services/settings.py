"""Typed settings, read once from the environment.

This is the only module that reads environment variables. Everything else receives a
`Settings` (or the few values it needs) as an argument, so the same code runs on the
embedded local stack, in tests and in AWS Lambda; only the environment differs.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "dev", "preprod", "prod", "test"]


class Settings(BaseSettings):
    """Every knob of the service. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="", case_sensitive=False, extra="ignore", populate_by_name=True
    )

    # Where we run.
    environment: Environment = Field(
        default="local", validation_alias=AliasChoices("SERVICE_ENVIRONMENT", "ENVIRONMENT")
    )
    service_name: str = "sentiment-deep-dive"
    service_version: str = "0.1.0"
    log_level: str = "INFO"

    # DynamoDB. The endpoint is unset in AWS (boto3 picks the regional endpoint).
    table_name: str = "sentiment-deep-dive"
    aws_region: str = Field(
        default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    dynamodb_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("AWS_ENDPOINT_URL_DYNAMODB")
    )

    # External providers: the local emulators by default, the real services when set.
    tiingo_base_url: str = "https://api.tiingo.com"
    tiingo_api_key: SecretStr = SecretStr("")
    finnhub_base_url: str = "https://finnhub.io/api/v1"
    finnhub_api_key: SecretStr = SecretStr("")
    sendgrid_base_url: str = "https://api.sendgrid.com"
    sendgrid_api_key: SecretStr = SecretStr("")
    http_timeout_s: float = 5.0

    # The pipeline.
    default_watchlist: str = "AAPL,MSFT,NVDA,AMZN,GOOGL,META,TSLA,JPM"
    analysis_topic_arn: str | None = None
    ingestion_lookback_s: int = 24 * 3600
    stale_pending_after_s: int = 600
    publish_batch_size: int = 100

    # Sessions and links.
    anonymous_session_ttl_s: int = 7 * 24 * 3600
    account_session_ttl_s: int = 30 * 24 * 3600
    magic_link_ttl_s: int = 15 * 60
    # How long an instance trusts a session it has already checked: a revocation made by
    # another instance takes effect there within this bound (its own are immediate).
    session_cache_ttl_s: float = 15.0
    # Sign-in e-mails: their sender, and the page their link opens (`?magic_token=` is added).
    email_from_address: str = "no-reply@sentiment-deep-dive.dev"
    email_from_name: str = "Sentiment Deep Dive"
    magic_link_url: str = "http://127.0.0.1:5006/app"

    # OAuth 2.0 sign-in (authorization code + PKCE, OpenID Connect ID tokens). In AWS these
    # point at the Cognito user pool (hosted UI domain, issuer
    # `https://cognito-idp.<region>.amazonaws.com/<pool id>`) federating Google; locally at the
    # OIDC emulator. Unset issuer or client id: OAuth sign-in answers 503 "not configured".
    oauth_issuer: str | None = None
    oauth_client_id: str | None = None
    # Only for a confidential app client; PKCE protects the exchange either way.
    oauth_client_secret: SecretStr | None = None
    oauth_authorize_url: str | None = None
    oauth_token_url: str | None = None
    # Defaults to `<issuer>/.well-known/jwks.json`, where Cognito publishes its keys.
    oauth_jwks_url: str | None = None
    # The workbench page the provider sends the browser back to (registered with the client).
    oauth_redirect_uri: str = "http://127.0.0.1:5006/app"
    oauth_scopes: str = "openid email profile"
    # Cognito's `identity_provider` parameter: skip the hosted UI and go straight to Google.
    oauth_google_identity_provider: str | None = "Google"
    oauth_state_ttl_s: int = 10 * 60

    # Business limits.
    max_configs_anonymous: int = 1
    max_configs_account: int = 2
    max_tickers_per_config: int = 5
    max_alerts_anonymous: int = 2
    max_alerts_account: int = 10
    # Alert e-mails per user per day (anonymous sessions have no address: in-app only).
    daily_alert_emails_account: int = 10

    # Schedules of the embedded stack (EventBridge rules in AWS).
    ingestion_interval_s: float = 300.0
    metrics_interval_s: float = 60.0

    # The embedded local stack (ignored in AWS).
    local_api_port: int = 8080
    local_dynamodb_port: int = 8000
    local_workbench_port: int = 5006
    # Where clients (workbench, traffic generator, notebooks) find the API.
    api_url: str | None = None
    # Directory holding stack.json and the operator token; default `.local` in the checkout.
    local_state_dir: str | None = None

    # The workbench's origin, allowed by CORS.
    cors_allow_origin: str = "http://127.0.0.1:5006"

    # Local operator token: the ops endpoints accept a bearer whose hash matches this.
    operator_token_sha256: str | None = None


def watchlist(settings: Settings) -> list[str]:
    """The default watchlist as symbols (the setting is a comma-separated string)."""
    return [s.strip().upper() for s in settings.default_watchlist.split(",") if s.strip()]


@cache
def get_settings() -> Settings:
    """Settings for this process, parsed once (Lambda cold start, or stack start-up)."""
    return Settings()

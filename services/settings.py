"""Typed settings, read once from the environment.

This is the only module that reads environment variables. Everything else receives a
`Settings` (or the few values it needs) as an argument, so the same code runs on the
embedded local stack, in tests and in AWS Lambda; only the environment differs.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "dev", "preprod", "prod", "test"]
QuotaPeriod = Literal["second", "minute", "hour", "day", "month"]
ScorerTier = Literal["transformer", "cascade", "linear"]
Plan = Literal["free", "paid"]


class Settings(BaseSettings):
    """Every knob of the service. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="", case_sensitive=False, extra="ignore", populate_by_name=True
    )

    # Where we run. `local` (the default off Lambda) switches on what only the local stack may
    # have, e.g. the chaos routes; a deployed function must be told its environment (Terraform
    # sets it for every function) and refuses to start without it.
    environment: Environment = Field(
        default="local", validation_alias=AliasChoices("SERVICE_ENVIRONMENT", "ENVIRONMENT")
    )
    # Set by Lambda itself in every function: how the settings know they run deployed.
    aws_lambda_function_name: str | None = None
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
    # In AWS the keys live in Secrets Manager: the functions get these ARNs and read the keys
    # once at cold start (`services/secrets.py`); a key set directly wins.
    tiingo_api_key_secret_arn: str | None = None
    finnhub_api_key_secret_arn: str | None = None
    sendgrid_api_key_secret_arn: str | None = None

    # Circuit breakers, one per external service, their state shared through the table
    # (`services/resilience/breaker.py`): this many counted failures within the window open
    # a circuit; it refuses calls for the open timeout, then lets one trial call through.
    circuit_failure_threshold: int = 5
    circuit_failure_window_s: float = 60.0
    circuit_open_timeout_s: float = 60.0
    # How long an instance decides from its copy of the state before reading it again.
    circuit_cache_ttl_s: float = 60.0
    # The trial's lease: longer than a call can take, so one trial is never two.
    circuit_trial_timeout_s: float = 30.0
    # How long the log of state changes is kept.
    circuit_transition_ttl_s: int = 7 * 24 * 3600

    # What each provider's key is allowed (`services/adapters/plans.py`, README "Provider
    # plans"): the plan decides which endpoints are called and which limits apply. The free
    # plans' limits are the providers' published figures; the paid plans' are below.
    tiingo_plan: Plan = "paid"
    finnhub_plan: Plan = "paid"
    sendgrid_plan: Plan = "paid"
    tiingo_paid_hourly_limit: int = Field(default=10_000, ge=1)
    tiingo_paid_daily_limit: int = Field(default=100_000, ge=1)
    # Distinct symbols a month on the paid plan; 0: no cap.
    tiingo_paid_monthly_symbols: int = Field(default=0, ge=0)
    finnhub_paid_per_minute: int = Field(default=300, ge=1)
    finnhub_paid_per_second: int = Field(default=30, ge=1)
    sendgrid_paid_daily_limit: int = Field(default=1_500, ge=1)
    # How old an instance's copy of the endpoints a provider refused may be before it reads
    # the table again (`services/resilience/entitlements.py`); 0: read on every check.
    entitlements_refresh_s: float = Field(default=60.0, ge=0)

    # An own budget per external service on top of the plan's limits (e.g. to keep a share
    # of a key for another system), counted in its UTC period; unset: the plan's alone. All
    # quotas are shared through the table (`services/resilience/quota.py`).
    tiingo_quota_limit: int | None = Field(default=None, ge=1)
    tiingo_quota_period: QuotaPeriod = "month"
    finnhub_quota_limit: int | None = Field(default=None, ge=1)
    finnhub_quota_period: QuotaPeriod = "minute"
    sendgrid_quota_limit: int | None = Field(default=None, ge=1)
    sendgrid_quota_period: QuotaPeriod = "day"
    quota_warning_fraction: float = 0.5
    quota_critical_fraction: float = 0.8
    # The last part of each quota only priority calls (a person waiting) may use.
    quota_reserve_fraction: float = 0.1
    # Calls are counted in memory and added to the table at most this long apart (at once
    # when a level is crossed, and call by call near the limit).
    quota_sync_interval_s: float = 60.0
    # ... or as soon as this fraction of the limit (one call at the least) is counted only in
    # memory, so a burst does not wait for the interval.
    quota_batch_fraction: float = 0.05
    # How long a period's counter is kept after the period ends.
    quota_counter_ttl_s: int = 7 * 24 * 3600
    # Shares of a provider's request quotas kept for calls anybody can cause
    # (`services/resilience/quota.py`): sign-in e-mails never use more than this fraction of
    # SendGrid's, so alerts and digests keep the rest whatever is asked for; the API's price
    # fetches never more than this fraction of Tiingo's, so ingestion keeps the rest. 0: no
    # share (those calls count with the rest).
    sendgrid_sign_in_share: float = Field(default=0.10, ge=0, lt=1)
    tiingo_prices_share: float = Field(default=0.20, ge=0, lt=1)
    # Sign-in e-mails per recipient address and per client address (the caller's network
    # address, IPv6 per /64) an hour, counted exactly across instances in the table: a victim's
    # inbox, and the share above, cannot be flooded from one place.
    sign_in_emails_per_recipient_per_hour: int = Field(default=5, ge=1)
    sign_in_emails_per_client_per_hour: int = Field(default=20, ge=1)
    # Price fetches from Tiingo (OHLC cache misses) a session, and a client address, may cause
    # an hour; cached prices are served to anyone. A chart session reads a few tickers in a
    # few ranges; an address holds more people than a session.
    price_fetches_per_session_per_hour: int = Field(default=30, ge=1)
    price_fetches_per_client_per_hour: int = Field(default=60, ge=1)

    # The pipeline.
    default_watchlist: str = "AAPL,MSFT,NVDA,AMZN,GOOGL,META,TSLA,JPM"
    analysis_topic_arn: str | None = None
    ingestion_lookback_s: int = 24 * 3600
    stale_pending_after_s: int = 600
    publish_batch_size: int = 100
    # The text scorer analysis uses (`services/scoring/__init__.py`, figures in
    # `services/scoring/MODEL_CARD.md`): `transformer` (the fine-tuned MiniLM, int8 ONNX),
    # `cascade` (the linear model first, the transformer for the texts it is unsure of) or
    # `linear` (the hashed n-gram model alone). onnxruntime threads per process; 0 = all cores.
    scorer_tier: ScorerTier = "cascade"
    scorer_threads: int = Field(default=1, ge=0)
    cascade_threshold: float = Field(default=0.85, ge=0.0, le=1.0)

    # Sessions and links.
    anonymous_session_ttl_s: int = 7 * 24 * 3600
    account_session_ttl_s: int = 30 * 24 * 3600
    magic_link_ttl_s: int = 15 * 60
    # How long an instance keeps the account behind a session (sessions themselves are read
    # on every request); sign-ins that change an account drop it at once.
    account_cache_ttl_s: float = 60.0
    # An anonymous user outlives its last session by this much, then the table forgets it
    # (TTL) and the cleanup retires its configurations; each cleanup run retires at most
    # `anonymous_cleanup_batch` users, so one run stays short however many are due.
    anonymous_user_grace_s: int = 24 * 3600
    anonymous_cleanup_batch: int = Field(default=50, ge=1)
    # The daily digest reads at most this many accounts (a bounded query, never a scan).
    digest_max_accounts: int = Field(default=5000, ge=1)
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

    # Alerts and e-mail (`services/alerts/`, `services/notifications/`). A rule that fires
    # stays quiet until its condition has cleared and this long has passed.
    alert_cooldown_s: float = 3600.0
    # Volatility rules: ATR over this many daily candles, as a percentage of the last close.
    volatility_atr_days: int = 14
    # Queued e-mails: retries back off from the base to the cap (doubling); an e-mail not
    # delivered this long after it was queued is given up and marked expired.
    email_retry_base_s: float = 30.0
    email_retry_max_s: float = 1800.0
    email_delivery_deadline_s: int = 24 * 3600
    # A claimed e-mail that was neither sent nor released in this time is claimed again.
    email_send_lease_s: float = 120.0
    # Sent and given-up e-mails stay in the table (the user's notification history) this long.
    email_history_ttl_s: int = 30 * 24 * 3600
    # Signs unsubscribe links (HMAC-SHA256). Unset: e-mails carry no unsubscribe link and the
    # route answers 501. In AWS it comes from Secrets Manager (the secret named by
    # `UNSUBSCRIBE_SIGNING_KEY_SECRET_ARN`, read at cold start); the local stack keeps one in
    # `.local/unsubscribe-key`.
    unsubscribe_signing_key: SecretStr | None = None
    unsubscribe_signing_key_secret_arn: str | None = None
    # Where the API is reached from outside (the unsubscribe link); the local stack sets it.
    public_api_url: str = "http://127.0.0.1:8080"

    # Schedules of the embedded stack (EventBridge rules in AWS).
    ingestion_interval_s: float = 300.0
    metrics_interval_s: float = 60.0
    # The notification function delivers what is queued this often; the digest runs daily.
    notification_interval_s: float = 60.0
    digest_interval_s: float = 24 * 3600.0
    # How long the metrics function's snapshots are kept, and how long `/ops/metrics` keeps
    # the latest one in memory (the metrics cache layer). Short, because a run asked of one
    # execution environment drops only that one's copy: the others catch up within this.
    metrics_snapshot_ttl_s: int = 7 * 24 * 3600
    metrics_cache_ttl_s: float = 10.0

    # The embedded local stack (ignored in AWS).
    local_api_port: int = 8080
    local_dynamodb_port: int = 8000
    local_workbench_port: int = 5006
    # The API's execution environments (worker processes, each serving one request at a time;
    # one per CPU core unless said) and the function's timeout: a request still running after
    # it is answered 504 and its environment replaced.
    local_api_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    local_api_timeout_s: float = Field(default=30.0, gt=0)
    # History the embedded stack backfills on its first start, for the default watchlist,
    # through the real pipeline (`services/local/backfill.py`); 0 turns it off.
    local_backfill_days: int = Field(default=120, ge=0, le=365)
    local_backfill_window_days: int = Field(default=30, ge=1, le=60)
    # Where clients (workbench, traffic generator, notebooks) find the API.
    api_url: str | None = None
    # Directory holding stack.json and the operator token; default `.local` in the checkout.
    local_state_dir: str | None = None

    # The workbench's origin, allowed by CORS.
    cors_allow_origin: str = "http://127.0.0.1:5006"

    # Local operator token: the ops endpoints accept a bearer whose hash matches this.
    operator_token_sha256: str | None = None

    # What polling (or flooding) the health and operator views may cost. `/health` answers
    # from its table probe's result for this long, so any number of calls costs at most one
    # read per period and instance; 0 probes on every call.
    health_cache_ttl_s: float = Field(default=5.0, ge=0)
    # `/api/v2/ops/pipeline`: COUNT queries of at most this many pages per status (each
    # evaluates up to 1 MB; beyond it the count is a lower bound, flagged), kept this long.
    ops_count_max_pages: int = Field(default=4, ge=1)
    ops_counts_cache_ttl_s: float = Field(default=5.0, ge=0)
    # `/api/v2/ops/table`: at most this many items read per count (exact below it, estimated
    # from a sample above it), kept this long.
    ops_table_scan_max_items: int = Field(default=10_000, ge=1)
    ops_table_cache_ttl_s: float = Field(default=15.0, ge=0)

    # Rate limiting (`services/resilience/rate_limit.py`): a sliding window per bearer token
    # and per client address, its counts shared by every instance through the table. With
    # these a burst of 50 requests from one session meets 429s within the first second, while
    # a dashboard polling a few routes every couple of seconds (plus its tiles) never does.
    rate_limit_enabled: bool = True
    rate_limit_window_s: int = 10
    rate_limit_per_identity: int = 40
    # Many people can share one address (an office, a carrier's NAT): more room than a session.
    rate_limit_per_ip: int = 600
    # An instance exchanges its counts with the others at least this often while it serves,
    # and sooner once one caller made this share of its limit since the last exchange (which
    # bounds how far a caller spread over instances can overshoot).
    rate_limit_sync_interval_s: float = 1.0
    rate_limit_sync_fraction: float = 0.25

    # Cache layers (`services/caching/`); 0 switches a layer off (every read loads).
    configuration_list_cache_ttl_s: float = 60.0
    configuration_sentiment_cache_ttl_s: float = 300.0
    ohlc_memory_ttl_daily_s: float = 300.0
    ohlc_memory_ttl_intraday_s: float = 60.0

    # Fault injection (`/api/v2/ops/chaos`, local and dev only): switched inside the provider
    # emulators, found from the providers' base URLs. Only base URLs on these hosts are taken
    # for emulators; a real provider is never sent a control call.
    chaos_emulator_hosts: str = "127.0.0.1,localhost,::1"
    # A scenario switched on without a duration ends by itself after this (a safety net).
    chaos_default_duration_s: float = 3600.0
    # `slow_upstream` delays answers this much past the adapters' `http_timeout_s`.
    chaos_slow_margin_s: float = 1.0
    chaos_control_timeout_s: float = 2.0

    @model_validator(mode="after")
    def _deployed_functions_name_their_environment(self) -> Settings:
        # Fail closed: without the variable a deployed function would take the default,
        # `local`, and serve what only the local stack may serve.
        if self.aws_lambda_function_name and "environment" not in self.model_fields_set:
            raise ValueError(
                "SERVICE_ENVIRONMENT is not set in the Lambda function "
                f"{self.aws_lambda_function_name!r}: set it to dev, preprod or prod"
            )
        return self


def watchlist(settings: Settings) -> list[str]:
    """The default watchlist as symbols (the setting is a comma-separated string)."""
    return [s.strip().upper() for s in settings.default_watchlist.split(",") if s.strip()]


@cache
def get_settings() -> Settings:
    """Settings for this process, parsed once (Lambda cold start, or stack start-up), with
    the secrets that are kept in Secrets Manager (provider keys, the unsubscribe key) filled in."""
    from services.secrets import with_secrets

    return with_secrets(Settings())

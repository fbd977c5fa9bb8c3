"""Provider keys from Secrets Manager, read once at cold start.

Terraform gives each function the ARNs of the secrets it may read (`*_API_KEY_SECRET_ARN`);
a key already set in the environment is used as it is (local runs, tests). A secret holds the
key as plain text, or as JSON with an `api_key` field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from services.settings import Settings

PROVIDERS = ("tiingo", "finnhub", "sendgrid")


def _client(settings: Settings) -> Any:
    import boto3

    return boto3.client("secretsmanager", region_name=settings.aws_region)


def key_from_secret(secret: str) -> str:
    text = secret.strip()
    if text.startswith("{"):
        value = json.loads(text).get("api_key")
        if not isinstance(value, str) or not value:
            raise ValueError("the secret's JSON has no api_key string")
        return value
    return text


def with_provider_keys(settings: Settings, client: Callable[[Settings], Any] = _client) -> Settings:
    """`settings` with every empty provider key read from its secret (one call each)."""
    updates: dict[str, SecretStr] = {}
    secretsmanager = None
    for provider in PROVIDERS:
        arn = getattr(settings, f"{provider}_api_key_secret_arn")
        current: SecretStr = getattr(settings, f"{provider}_api_key")
        if not arn or current.get_secret_value():
            continue
        secretsmanager = secretsmanager or client(settings)
        secret = secretsmanager.get_secret_value(SecretId=arn)["SecretString"]
        updates[f"{provider}_api_key"] = SecretStr(key_from_secret(secret))
    return settings.model_copy(update=updates) if updates else settings

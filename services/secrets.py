"""Secrets from Secrets Manager, read once at cold start: the provider API keys and the key that
signs unsubscribe links.

Terraform gives each function the ARNs of the secrets it may read (`*_SECRET_ARN`, exactly
those its role grants); a value already set in the environment is used as it is (local runs,
tests). A secret holds its value as plain text, or as JSON with one field (`api_key` for a
provider key, `signing_key` for the unsubscribe key).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from services.settings import Settings

PROVIDERS = ("tiingo", "finnhub", "sendgrid")


@dataclass(frozen=True, slots=True)
class SecretSetting:
    """A setting filled from a secret: where the value goes, where the secret's ARN is, and
    the JSON field that holds the value when the secret is JSON."""

    value: str
    arn: str
    json_field: str


SECRET_SETTINGS: tuple[SecretSetting, ...] = (
    *(SecretSetting(f"{p}_api_key", f"{p}_api_key_secret_arn", "api_key") for p in PROVIDERS),
    SecretSetting("unsubscribe_signing_key", "unsubscribe_signing_key_secret_arn", "signing_key"),
)


def _client(settings: Settings) -> Any:
    import boto3

    return boto3.client("secretsmanager", region_name=settings.aws_region)


def value_from_secret(secret: str, json_field: str) -> str:
    text = secret.strip()
    if text.startswith("{"):
        value = json.loads(text).get(json_field)
        if not isinstance(value, str) or not value:
            raise ValueError(f"the secret's JSON has no {json_field} string")
        return value
    if not text:
        raise ValueError("the secret is empty")
    return text


def key_from_secret(secret: str) -> str:
    """A provider's API key from its secret."""
    return value_from_secret(secret, "api_key")


def _is_set(value: SecretStr | None) -> bool:
    return value is not None and bool(value.get_secret_value())


def with_secrets(settings: Settings, client: Callable[[Settings], Any] = _client) -> Settings:
    """`settings` with every empty secret setting read from its secret (one call each)."""
    updates: dict[str, SecretStr] = {}
    secretsmanager = None
    for setting in SECRET_SETTINGS:
        arn = getattr(settings, setting.arn)
        if not arn or _is_set(getattr(settings, setting.value)):
            continue
        secretsmanager = secretsmanager or client(settings)
        secret = secretsmanager.get_secret_value(SecretId=arn)["SecretString"]
        updates[setting.value] = SecretStr(value_from_secret(secret, setting.json_field))
    return settings.model_copy(update=updates) if updates else settings

"""Secrets from Secrets Manager, read once at cold start: the provider API keys and the key that
signs unsubscribe links.

Terraform gives each function the ARNs of the secrets it may read (`*_SECRET_ARN`, exactly
those its role grants); a value already set in the environment is used as it is (local runs,
tests). A secret holds its value as plain text, or as JSON with one field (`api_key` for a
provider key, `signing_key` for the unsubscribe key).

Powertools' `SecretsProvider` reads and caches the secrets; its boto3 client comes from a
function the caller may replace (a test hands in its own), called only when a secret is due.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from pydantic import SecretStr

from services.settings import Settings

PROVIDERS = ("tiingo", "finnhub", "sendgrid")
# How long the provider keeps a value: longer than a cold start's reads take, so a secret that
# fills several settings is fetched once.
SECRET_MAX_AGE_S = 300

ClientFactory = Callable[[Settings], Any]


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


def secretsmanager_client(settings: Settings) -> Any:
    import boto3

    return boto3.client("secretsmanager", region_name=settings.aws_region)


def secrets_provider(
    settings: Settings, client: ClientFactory = secretsmanager_client
) -> SecretsProvider:
    return SecretsProvider(boto3_client=client(settings))


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


def read_secret(provider: SecretsProvider, arn: str, json_field: str) -> str:
    """The value a secret holds, read through `provider` (a cached copy while it is fresh)."""
    secret = provider.get(arn, max_age=SECRET_MAX_AGE_S)
    if not isinstance(secret, str):
        raise ValueError(f"the secret {arn} holds no text")
    return value_from_secret(secret, json_field)


def _is_set(value: SecretStr | None) -> bool:
    return value is not None and bool(value.get_secret_value())


def _due(settings: Settings) -> list[tuple[SecretSetting, str]]:
    """Each secret setting still empty whose secret has an ARN, with that ARN."""
    due = []
    for setting in SECRET_SETTINGS:
        arn = getattr(settings, setting.arn)
        if arn and not _is_set(getattr(settings, setting.value)):
            due.append((setting, arn))
    return due


def with_secrets(settings: Settings, client: ClientFactory = secretsmanager_client) -> Settings:
    """`settings` with every empty secret setting read from its secret; without one due,
    no client is made."""
    due = _due(settings)
    if not due:
        return settings
    provider = secrets_provider(settings, client)
    updates = {
        setting.value: SecretStr(read_secret(provider, arn, setting.json_field))
        for setting, arn in due
    }
    return settings.model_copy(update=updates)

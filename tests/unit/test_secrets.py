"""Provider keys from Secrets Manager (moto): read once when their ARN is set and the key is
not, in either shape of secret, through the client a caller hands in; a key set directly wins,
and a secret named by two settings is fetched once."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from services.secrets import key_from_secret, with_secrets
from services.settings import Settings

pytestmark = pytest.mark.unit


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def test_empty_keys_are_read_from_their_secrets(secrets) -> None:  # type: ignore[no-untyped-def]
    tiingo = secrets.create_secret(Name="dev/tiingo-api-key", SecretString="tiingo-key")["ARN"]
    sendgrid = secrets.create_secret(
        Name="dev/sendgrid-api-key", SecretString=json.dumps({"api_key": "sg-key"})
    )["ARN"]
    settings = Settings(
        tiingo_api_key_secret_arn=tiingo,
        sendgrid_api_key_secret_arn=sendgrid,
        finnhub_api_key="set-directly",
        finnhub_api_key_secret_arn="arn:aws:secretsmanager:us-east-1:123456789012:secret:unused",
    )

    resolved = with_secrets(settings)

    assert resolved.tiingo_api_key.get_secret_value() == "tiingo-key"
    assert resolved.sendgrid_api_key.get_secret_value() == "sg-key"
    assert resolved.finnhub_api_key.get_secret_value() == "set-directly"


def test_without_arns_nothing_is_asked() -> None:
    def refuse(settings: Settings) -> None:
        raise AssertionError("Secrets Manager was called")

    settings = Settings()
    assert with_secrets(settings, refuse) is settings


def test_a_json_secret_without_its_field_is_an_error() -> None:
    with pytest.raises(ValueError, match="api_key"):
        key_from_secret('{"key": "x"}')


def test_a_secret_shared_by_two_settings_is_read_once(secrets) -> None:  # type: ignore[no-untyped-def]
    shared = secrets.create_secret(
        Name="dev/shared", SecretString=json.dumps({"api_key": "k", "signing_key": "s"})
    )["ARN"]
    reads: list[str] = []
    secrets.meta.events.register(
        "before-parameter-build.secrets-manager.GetSecretValue",
        lambda params, **_: reads.append(params["SecretId"]),
    )
    settings = Settings(tiingo_api_key_secret_arn=shared, unsubscribe_signing_key_secret_arn=shared)

    resolved = with_secrets(settings, lambda _: secrets)

    assert resolved.tiingo_api_key.get_secret_value() == "k"
    assert resolved.unsubscribe_signing_key is not None
    assert resolved.unsubscribe_signing_key.get_secret_value() == "s"
    assert reads == [shared]


def test_a_binary_secret_is_an_error(secrets) -> None:  # type: ignore[no-untyped-def]
    arn = secrets.create_secret(Name="dev/binary", SecretBinary=b"\x00key")["ARN"]

    with pytest.raises(ValueError, match="no text"):
        with_secrets(Settings(tiingo_api_key_secret_arn=arn), lambda _: secrets)

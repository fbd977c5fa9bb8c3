"""Provider keys from Secrets Manager (moto): read once when their ARN is set and the key is
not, in either shape of secret; a key set directly wins."""

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

"""In AWS the unsubscribe signing key comes from Secrets Manager (moto): with only the secret's
ARN in the environment, as Terraform deploys the functions, e-mails carry a working link."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from services.notifications.unsubscribe import link_for, signing_key, verify
from services.secrets import with_secrets
from services.settings import Settings, get_settings

pytestmark = pytest.mark.unit

KEY = "k3y-0f-the-unsubscribe-links-for-this-test"


@pytest.fixture
def secretsmanager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def test_unsubscribe_key_is_read_from_its_secret_at_cold_start(
    secretsmanager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a deployed function's environment: the secret's ARN and the API's public URL only
    arn = secretsmanager.create_secret(
        Name="sentiment-deep-dive/dev/unsubscribe-signing-key", SecretString=KEY
    )["ARN"]
    monkeypatch.setenv("UNSUBSCRIBE_SIGNING_KEY_SECRET_ARN", arn)
    monkeypatch.setenv("PUBLIC_API_URL", "https://abc.lambda-url.us-east-1.on.aws/")
    monkeypatch.delenv("UNSUBSCRIBE_SIGNING_KEY", raising=False)
    get_settings.cache_clear()
    try:
        # When the function reads its settings
        settings = get_settings()
    finally:
        get_settings.cache_clear()

    # Then the key is the secret's, and an e-mail's link verifies with it
    assert signing_key(settings) == KEY.encode()
    link = link_for(settings, "user-1", "digest")
    assert link is not None
    assert link.startswith("https://abc.lambda-url.us-east-1.on.aws/api/v2/notifications/")
    token = link.partition("token=")[2]
    assert verify(KEY.encode(), token).user_id == "user-1"


def test_unsubscribe_key_may_be_a_json_secret(secretsmanager: Any) -> None:
    arn = secretsmanager.create_secret(
        Name="unsubscribe-json", SecretString=json.dumps({"signing_key": KEY})
    )["ARN"]
    resolved = with_secrets(Settings(unsubscribe_signing_key_secret_arn=arn))
    assert signing_key(resolved) == KEY.encode()


def test_unsubscribe_key_set_directly_wins_over_its_secret() -> None:
    def refuse(settings: Settings) -> None:
        raise AssertionError("Secrets Manager was called")

    settings = Settings(
        unsubscribe_signing_key="local-key",
        unsubscribe_signing_key_secret_arn="arn:aws:secretsmanager:us-east-1:1:secret:unused",
    )
    assert with_secrets(settings, refuse) is settings


def test_an_empty_unsubscribe_secret_is_an_error(secretsmanager: Any) -> None:
    arn = secretsmanager.create_secret(Name="unsubscribe-empty", SecretString=" ")["ARN"]
    with pytest.raises(ValueError, match="empty"):
        with_secrets(Settings(unsubscribe_signing_key_secret_arn=arn))

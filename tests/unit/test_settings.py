"""Settings come from the environment, typed, with safe defaults."""

from __future__ import annotations

import pytest

from services.settings import Settings

pytestmark = pytest.mark.unit


def test_settings_read_endpoint_and_intervals_from_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the variables the stack and Lambda set, When settings are read, Then they are typed.
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9000")
    monkeypatch.setenv("TABLE_NAME", "my-table")
    monkeypatch.setenv("INGESTION_INTERVAL_S", "2.5")
    monkeypatch.setenv("TIINGO_API_KEY", "secret-key")
    monkeypatch.setenv("SERVICE_ENVIRONMENT", "dev")
    settings = Settings()
    assert settings.dynamodb_endpoint == "http://127.0.0.1:9000"
    assert settings.table_name == "my-table"
    assert settings.ingestion_interval_s == 2.5
    assert settings.environment == "dev"
    # Secrets stay hidden in reprs and logs.
    assert "secret-key" not in repr(settings)
    assert settings.tiingo_api_key.get_secret_value() == "secret-key"


def test_settings_defaults_match_the_design(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    settings = Settings()
    assert settings.dynamodb_endpoint is None  # AWS picks the regional endpoint
    assert settings.ingestion_interval_s == 300
    assert settings.metrics_interval_s == 60
    assert settings.magic_link_ttl_s == 15 * 60
    assert (settings.max_configs_anonymous, settings.max_configs_account) == (1, 2)
    assert settings.max_tickers_per_config == 5


def test_settings_reject_a_bad_value_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGESTION_INTERVAL_S", "often")
    with pytest.raises(ValueError, match="ingestion_interval_s"):
        Settings()


def test_settings_accept_keyword_overrides_for_aliased_fields() -> None:
    assert Settings(dynamodb_endpoint="http://x:1").dynamodb_endpoint == "http://x:1"


def test_no_module_reads_the_environment_directly(root) -> None:
    # Only services/settings.py may read environment variables.
    offenders = [
        str(path.relative_to(root))
        for folder in ("services", "workbench")
        for path in (root / folder).rglob("*.py")
        if path.name != "settings.py"
        and any(
            needle in path.read_text()
            for needle in ("os.environ[", "os.environ.get", "os.getenv", "environ.setdefault")
        )
    ]
    assert offenders == []

"""Alert thresholds are kept to six decimals, so that any finite number in range is stored
(a DynamoDB number holds no magnitude under 1e-130). Over a moto table."""

from __future__ import annotations

from typing import Any

import pytest

from services.alerts.manage import AlertService
from services.auth.sessions import Principal, authenticate, start_anonymous_session
from services.settings import Settings
from services.store.alerts import DynamoAlertRepository
from services.store.configurations import DynamoConfigurationRepository
from services.store.memory import InMemorySessionRepository
from services.store.models import Alert, Configuration
from services.store.users import DynamoUserRepository
from tests.unit.auth.support import Clock

pytestmark = pytest.mark.unit

SETTINGS = Settings()


@pytest.fixture
def table(moto_table: Any) -> Any:
    return moto_table


@pytest.fixture
def service(table: Any) -> AlertService:
    configs = DynamoConfigurationRepository(table)
    return AlertService(DynamoAlertRepository(table), configs, SETTINGS, Clock())


@pytest.fixture
def caller(table: Any) -> Principal:
    """An anonymous session with one watchlist: AAPL."""
    clock, sessions, users = Clock(), InMemorySessionRepository(), DynamoUserRepository(table)
    issued = start_anonymous_session(users, sessions, SETTINGS, clock)
    watchlist = Configuration(
        config_id="c-1",
        user_id=issued.user.user_id,
        name="watch",
        tickers=("AAPL",),
        created_at=clock(),
        updated_at=clock(),
    )
    DynamoConfigurationRepository(table).create(watchlist, max_allowed=1)
    return authenticate(issued.token, sessions, users, clock)


def sentiment_rule(service: AlertService, caller: Principal, threshold: float) -> Alert:
    return service.create(
        caller,
        config_id="c-1",
        ticker="AAPL",
        alert_type="sentiment_threshold",
        direction="above",
        threshold=threshold,
    )


def test_a_threshold_too_small_for_the_table_is_stored_as_zero(
    service: AlertService, caller: Principal
) -> None:
    # Given a sentiment threshold in range, of a magnitude DynamoDB cannot hold (was a 500)
    # When the rule is created
    alert = sentiment_rule(service, caller, -6.4e-290)

    # Then it is kept to six decimals, and reads back as stored
    assert alert.threshold == 0.0
    assert service.get(caller, alert.alert_id).threshold == 0.0


def test_an_updated_threshold_is_kept_to_six_decimals(
    service: AlertService, caller: Principal
) -> None:
    alert = sentiment_rule(service, caller, 0.5)

    changed = service.update(caller, alert.alert_id, threshold=0.123456789)

    assert changed.threshold == 0.123457
    assert service.get(caller, alert.alert_id).threshold == 0.123457

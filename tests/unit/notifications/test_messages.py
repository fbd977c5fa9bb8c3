"""What our e-mails say, and the unsubscribe links they carry."""

from __future__ import annotations

import pytest

from services.notifications.templates import AlertFacts, DigestLine, alert_email, digest_email
from services.notifications.unsubscribe import (
    InvalidUnsubscribeTokenError,
    link_for,
    sign,
    verify,
)
from services.settings import Settings

pytestmark = pytest.mark.unit

KEY = b"test-signing-key"


def facts(**changes: object) -> AlertFacts:
    values: dict[str, object] = {
        "ticker": "AAPL",
        "alert_type": "sentiment_threshold",
        "direction": "below",
        "threshold": -0.2,
        "value": -0.4567,
        "configuration_name": "Tech <giants>",
        "dashboard_url": "http://127.0.0.1:5006/app",
        "unsubscribe_url": "http://127.0.0.1:8080/api/v2/notifications/unsubscribe?token=t",
    }
    values.update(changes)
    return AlertFacts(**values)  # type: ignore[arg-type]


def test_alert_email_names_the_ticker_value_direction_and_link() -> None:
    mail = alert_email(facts())

    assert mail.subject == "AAPL sentiment is below -0.20"
    assert "-0.46" in mail.text and "Tech <giants>" in mail.text
    assert "http://127.0.0.1:5006/app" in mail.text and "unsubscribe?token=t" in mail.text
    # Values go into the HTML escaped
    assert "Tech &lt;giants&gt;" in mail.html and "<giants>" not in mail.html


def test_volatility_alert_speaks_in_percent() -> None:
    mail = alert_email(
        facts(alert_type="volatility_threshold", direction="above", threshold=3.0, value=4.25)
    )
    assert mail.subject == "AAPL volatility is above 3.00%"
    assert "4.25%" in mail.text


def test_an_email_without_a_signing_key_has_no_unsubscribe_line() -> None:
    assert "Stop these e-mails" not in alert_email(facts(unsubscribe_url=None)).text


def test_digest_lists_every_ticker() -> None:
    lines = [DigestLine("AAPL", 0.31, "positive", 0.8), DigestLine("TSLA", -0.42, "negative", 0.5)]
    mail = digest_email("2026-11-24", lines, "http://x/app", None)
    assert mail.subject == "Your sentiment digest for 2026-11-24"
    assert "AAPL" in mail.text and "+0.31" in mail.text and "-0.42" in mail.text
    assert mail.html.count("<tr>") == 3


def test_an_unsubscribe_token_names_its_user_and_list() -> None:
    found = verify(KEY, sign(KEY, "user-1", "digest"))
    assert (found.user_id, found.email_list) == ("user-1", "digest")


@pytest.mark.parametrize(
    "token",
    [
        sign(b"another key", "user-1", "alerts"),
        sign(KEY, "user-1", "alerts")[:-2] + "xx",
        sign(KEY, "user-1", "alerts").replace(".", ""),
        "not-a-token",
        "payload.signature-with-é",
        "\u00e9\u00e9.\u00e9",
    ],
)
def test_a_forged_or_damaged_unsubscribe_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidUnsubscribeTokenError):
        verify(KEY, token)


def test_a_token_for_one_user_cannot_be_rewritten_for_another() -> None:
    _payload, signature = sign(KEY, "user-1", "alerts").split(".")
    other_payload = sign(KEY, "user-2", "alerts").split(".")[0]
    with pytest.raises(InvalidUnsubscribeTokenError):
        verify(KEY, f"{other_payload}.{signature}")


def test_links_exist_only_with_a_signing_key() -> None:
    assert link_for(Settings(), "u", "alerts") is None
    with_key = Settings(unsubscribe_signing_key="k" * 32, public_api_url="http://api:9")
    link = link_for(with_key, "u", "alerts")
    assert link is not None and link.startswith("http://api:9/api/v2/notifications/unsubscribe?")

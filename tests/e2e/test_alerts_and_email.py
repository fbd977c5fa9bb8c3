"""Alerts that really go out: news crosses a rule's threshold, the analysis function fires it
once, the notification function delivers one e-mail through SendGrid (after SendGrid's 429s
too), the daily quota keeps alert e-mails and sign-in links each to their part, and
`/ops/metrics` agrees with the table.

The stack runs the notification function every half second (as the minute schedule would)
and leaves ingestion to the test."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.clock import iso, utc_now
from services.local.stack import LocalStack
from services.resilience.quota import REST
from services.settings import Settings
from services.store import keys
from services.store.outbox import DynamoOutbox, OutboxEmail, email_id_for
from services.store.table import dynamodb_table
from tests.e2e.api_support import account, news_stack, outbox, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SENDGRID_DAILY_LIMIT = 30
# A fifth of the day for sign-in links (the module signs in four accounts before the end).
SIGN_IN_SHARE = 0.2


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Iterator[LocalStack]:
    settings = Settings(
        default_watchlist="AAPL,MSFT,NVDA",
        email_retry_max_s=2,
        circuit_open_timeout_s=2,
        sendgrid_quota_limit=SENDGRID_DAILY_LIMIT,
        sendgrid_sign_in_share=SIGN_IN_SHARE,
    )
    with news_stack(
        root, tmp_path_factory.mktemp("state"), settings, notifications=True
    ) as running:
        yield running


def ingest_news(client: httpx.Client, stack: LocalStack, operator: dict[str, str], **news: Any):
    """Publish stories in the emulators, run an ingestion cycle, wait until all are analyzed."""
    tiingo = stack.describe()["tiingo_url"]
    assert httpx.post(f"{tiingo}/_emulator/news", json=news, timeout=10).status_code == 201
    assert client.post("/api/v2/ops/ingestion/run", headers=operator).status_code == 200

    def drained() -> bool:
        body = client.get("/api/v2/ops/pipeline", headers=operator).json()
        return bool(body["status_counts"]["pending"] == 0)

    wait_for("analysis of the new stories", drained)


def aggregated_score(stack: LocalStack, ticker: str) -> float:
    """The ensemble's score now, as the alert evaluation computes it."""
    from services.market.sentiment_view import ticker_sentiment
    from services.store.sentiment import DynamoSentimentStore

    store = DynamoSentimentStore(dynamodb_table(stack.settings))  # type: ignore[arg-type]
    return ticker_sentiment(store, ticker, utc_now()).aggregated.score


def watch(client: httpx.Client, headers: dict[str, str], ticker: str, threshold: float) -> str:
    config = client.post(
        "/api/v2/configurations",
        json={"name": f"{ticker} watch", "tickers": [ticker]},
        headers=headers,
    )
    assert config.status_code == 201, config.text
    alert = client.post(
        "/api/v2/alerts",
        json={
            "config_id": config.json()["config_id"],
            "ticker": ticker,
            "alert_type": "sentiment_threshold",
            "direction": "below",
            "threshold": threshold,
        },
        headers=headers,
    )
    assert alert.status_code == 201, alert.text
    return str(alert.json()["alert_id"])


def alert_mails(stack: LocalStack, address: str, ticker: str) -> list[dict[str, Any]]:
    return [m for m in outbox(stack, address) if m["subject"].startswith(f"{ticker} ")]


def test_news_crossing_a_threshold_sends_exactly_one_email(stack, client, operator) -> None:
    # Given an account watching AAPL with a rule just below today's sentiment
    ingest_news(client, stack, operator, ticker="AAPL", count=5)
    address, headers = account(client, stack)
    threshold = round(aggregated_score(stack, "AAPL") - 0.05, 3)
    alert_id = watch(client, headers, "AAPL", threshold)

    # When negative stories push the score below it, batch after batch
    ingest_news(client, stack, operator, ticker="AAPL", count=40, tone="negative")
    assert aggregated_score(stack, "AAPL") < threshold
    mails = wait_for("the alert e-mail", lambda: alert_mails(stack, address, "AAPL"))
    ingest_news(client, stack, operator, ticker="AAPL", count=20, tone="negative")
    time.sleep(1.5)  # three more delivery runs

    # Then exactly one e-mail went out, saying what crossed and where to look
    mails = alert_mails(stack, address, "AAPL")
    assert len(mails) == 1, mails
    mail = mails[0]
    assert "below" in mail["subject"] and f"{threshold:+.2f}" in mail["subject"]
    assert "AAPL" in mail["text"] and "AAPL watch" in mail["text"]
    assert stack.settings.magic_link_url in mail["text"]  # type: ignore[union-attr]
    assert "/api/v2/notifications/unsubscribe?token=" in mail["text"]
    # ... and the history and the rule say the same
    history = client.get("/api/v2/notifications", headers=headers).json()["notifications"]
    sent = [n for n in history if n["kind"] == "alert"]
    assert len(sent) == 1 and sent[0]["status"] == "sent"
    assert sent[0]["details"]["alert_id"] == alert_id
    assert sent[0]["notification_id"] == mail["headers"]["X-Entity-Ref-ID"]
    rule = client.get("/api/v2/alerts", headers=headers).json()["alerts"][0]
    assert rule["in_breach"] is True and rule["last_triggered_at"]
    quota = client.get("/api/v2/alerts/quota", headers=headers).json()
    assert quota["used_today"] == 1


def test_the_unsubscribe_link_turns_alert_emails_off(stack, client, operator) -> None:
    address, headers = account(client, stack)
    threshold = round(aggregated_score(stack, "NVDA") - 0.05, 3)
    watch(client, headers, "NVDA", threshold)
    assert client.get("/api/v2/notifications/preferences", headers=headers).json() == {
        "alert_emails": True,
        "digest_emails": True,
    }
    ingest_news(client, stack, operator, ticker="NVDA", count=40, tone="negative")
    mail = wait_for("the alert e-mail", lambda: alert_mails(stack, address, "NVDA"))[0]
    link = re.search(r"(http\S+/api/v2/notifications/unsubscribe\?token=\S+)", mail["text"])
    assert link is not None

    page = httpx.get(link.group(1), timeout=10)

    assert page.status_code == 200 and "no longer receive alert" in page.text
    preferences = client.get("/api/v2/notifications/preferences", headers=headers).json()
    assert preferences == {"alert_emails": False, "digest_emails": True}
    forged = httpx.get(link.group(1)[:-3] + "abc", timeout=10)
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "INVALID_LINK"


def test_an_email_meeting_sendgrid_429s_is_delivered_once_after_recovery(
    stack, client, operator
) -> None:
    # Given SendGrid answering 429 for a few seconds
    address, headers = account(client, stack)
    threshold = round(aggregated_score(stack, "MSFT") - 0.05, 3)
    watch(client, headers, "MSFT", threshold)
    switched = client.post(
        "/api/v2/ops/chaos",
        headers=operator,
        json={"scenario": "sendgrid_429", "enabled": True, "duration_s": 4},
    )
    assert switched.status_code == 200, switched.text

    # When the rule fires meanwhile
    ingest_news(client, stack, operator, ticker="MSFT", count=40, tone="negative")
    history = wait_for(
        "a failed attempt",
        lambda: [
            n
            for n in client.get("/api/v2/notifications", headers=headers).json()["notifications"]
            if n["kind"] == "alert" and n["attempts"] >= 1 and n["status"] == "queued"
        ],
    )
    assert any(word in history[0]["last_error"] for word in ("rate limited", "circuit open"))
    assert alert_mails(stack, address, "MSFT") == []

    # Then after SendGrid recovers (and its circuit closes again) it arrives, once
    wait_for("delivery after recovery", lambda: alert_mails(stack, address, "MSFT"), 60)
    time.sleep(1.5)
    assert len(alert_mails(stack, address, "MSFT")) == 1
    notice = next(
        n
        for n in client.get("/api/v2/notifications", headers=headers).json()["notifications"]
        if n["kind"] == "alert"
    )
    assert notice["status"] == "sent" and notice["attempts"] >= 2


def test_the_daily_digest_goes_to_each_account_once_a_day(stack, client, operator) -> None:
    # Given an account watching two tickers
    address, headers = account(client, stack)
    created = client.post(
        "/api/v2/configurations",
        json={"name": "digest", "tickers": ["AAPL", "MSFT"]},
        headers=headers,
    )
    assert created.status_code == 201
    assert stack.pipeline is not None

    # When the digest schedule fires twice on the same day
    first = stack.pipeline.scheduler.trigger("digest", raise_errors=True)
    second = stack.pipeline.scheduler.trigger("digest", raise_errors=True)

    # Then one digest per account is queued and delivered, with both tickers
    assert first["digest"]["queued"] >= 1 and second["digest"]["queued"] == 0
    assert second["digest"]["already_queued"] == first["digest"]["queued"]
    digests = wait_for(
        "the digest",
        lambda: [m for m in outbox(stack, address) if m["subject"].startswith("Your sentiment")],
    )
    time.sleep(1.0)
    found = [m for m in outbox(stack, address) if m["subject"].startswith("Your sentiment")]
    assert len(found) == 1, [(m["headers"], m["received_at"]) for m in found]
    assert "AAPL" in digests[0]["text"] and "MSFT" in digests[0]["text"]


def part_used(stack: LocalStack, part: str) -> int:
    """What one part of the day's own SendGrid budget counted, read from the table."""
    day = utc_now().strftime("%Y-%m-%d")
    item = (
        dynamodb_table(stack.settings)  # type: ignore[arg-type]
        .get_item(Key=keys.quota(f"sendgrid:budget_per_day@{part}", day), ConsistentRead=True)
        .get("Item")
    )
    return int(item["used"]) if item else 0


def test_the_daily_quota_defers_alert_emails_and_keeps_the_sign_in_share_for_links(
    stack, client, operator
) -> None:
    # Given more alert e-mails queued than today's SendGrid quota leaves for them
    queue = DynamoOutbox(dynamodb_table(stack.settings))  # type: ignore[arg-type]
    now = utc_now()
    address = f"bulk-{uuid.uuid4().hex[:8]}@example.com"
    keys = [f"bulk:{address}:{n}" for n in range(SENDGRID_DAILY_LIMIT)]
    for key in keys:
        queue.enqueue(
            OutboxEmail(
                idempotency_key=key,
                kind="alert",
                user_id=None,
                to=address,
                subject=key,
                text="bulk",
                created_at=now,
                deliver_by=now + timedelta(hours=1),
                next_attempt_at=now,
            )
        )
    share = round(SENDGRID_DAILY_LIMIT * SIGN_IN_SHARE)
    rest = SENDGRID_DAILY_LIMIT - share

    def used() -> int:
        quotas = client.get("/api/v2/ops/quotas", headers=operator).json()["quotas"]
        return int(quotas["sendgrid"]["used"])

    # When the notification function has worked through the queue
    def settled() -> list[OutboxEmail]:
        emails = [queue.get(email_id_for(key)) for key in keys]
        waiting = [e for e in emails if e is not None and e.state == "queued" and e.attempts]
        sent = [e for e in emails if e is not None and e.state == "sent"]
        return waiting if waiting and len(waiting) + len(sent) == len(keys) else []

    waiting = wait_for("the bulk e-mails sent or deferred", settled)

    # Then alert e-mails stopped where the sign-in share begins and wait for tomorrow's quota
    assert part_used(stack, REST) == rest
    assert used() == rest + part_used(stack, "sign_in")
    assert len(outbox(stack, address)) == SENDGRID_DAILY_LIMIT - len(waiting)
    assert all("quota" in (e.last_error or "") for e in waiting)
    assert all(e.next_attempt_at > now + timedelta(minutes=5) for e in waiting)
    # ... while sign-in links still go out from their share, until it is spent
    left = share - part_used(stack, "sign_in")
    statuses = [
        client.post("/api/v2/auth/magic-link", json={"email": f"r{i}-{address}"}).status_code
        for i in range(left + 1)
    ]
    assert statuses == [202] * left + [503]
    assert used() == SENDGRID_DAILY_LIMIT


def test_ops_metrics_agree_with_the_table(stack, client, operator) -> None:
    # Given some traffic and a metrics run
    for _ in range(5):
        assert client.get("/health").status_code in (200, 503)
    run = client.post("/api/v2/ops/metrics/run", headers=operator)
    assert run.status_code == 200, run.text

    body = client.get("/api/v2/ops/metrics", headers=operator).json()

    # Then its counts are the table's
    items = _scan(stack)
    articles = [i for i in items if i.get("entity") == "article"]
    assert body["pipeline"]["pending"] == sum(1 for a in articles if a.get("status") == "pending")
    assert body["pipeline"]["analyzed"] == sum(1 for a in articles if a.get("status") == "analyzed")
    since = iso(utc_now() - timedelta(days=1))
    for label in ("positive", "neutral", "negative"):
        expected = sum(
            1 for a in articles if a.get("sentiment") == label and str(a["timestamp"]) >= since
        )
        assert body["sentiment_distribution"][label] == expected, label
    emails = [i for i in items if i.get("entity") == "outbox_email"]
    for state in ("queued", "sent", "in_app", "suppressed"):
        assert body["emails"][state] == sum(1 for e in emails if e["state"] == state), state
    # ... the API's own figures include the requests just made
    assert body["api"]["requests"] >= 5
    assert body["api"]["latency_ms"]["p99"] >= body["api"]["latency_ms"]["p50"] > 0
    assert body["api"]["status_counts"]
    runs = [i for i in items if i.get("entity") == "ingestion_run"]
    assert body["ingestion"]["runs"] == len(runs)
    # ... and a second read inside a minute comes from the metrics cache
    assert client.get("/api/v2/ops/metrics", headers=operator).json()["cached"] is True


def _scan(stack: LocalStack) -> list[dict[str, Any]]:
    table = dynamodb_table(stack.settings)  # type: ignore[arg-type]
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

"""The local topic delivers SNS envelopes with retries and a dead letter; the scheduler ticks."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from services.local.bus import LocalTopic
from services.local.scheduler import LocalScheduler, scheduled_event
from services.messaging.publisher import messages_from_sns_event

pytestmark = pytest.mark.unit


def test_each_message_arrives_in_its_own_sns_envelope() -> None:
    received: list[dict[str, Any]] = []
    topic = LocalTopic("analysis", lambda e, c: received.append(e), lambda *a: None).start()
    topic.publish({"article_keys": ["a", "b"]})
    topic.publish({"article_keys": ["c"]})
    assert topic.drain(5)
    topic.stop()
    assert len(received) == 2
    record = received[0]["Records"][0]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["TopicArn"].endswith(":analysis")
    messages = sorted(m["article_keys"] for e in received for _, m in messages_from_sns_event(e))
    assert messages == [["a", "b"], ["c"]]
    assert json.loads(record["Sns"]["Message"])["article_keys"]
    assert (topic.stats.published, topic.stats.delivered) == (2, 2)


def test_a_failing_delivery_is_retried_then_dead_lettered() -> None:
    attempts: list[int] = []
    dead: list[tuple[str, dict[str, Any], str]] = []

    def always_fails(event: dict[str, Any], context: Any) -> None:
        attempts.append(1)
        raise ValueError("poison")

    topic = LocalTopic(
        "analysis", always_fails, lambda *a: dead.append(a), max_attempts=3, backoff_s=0.01
    ).start()
    topic.publish({"article_keys": "not-a-list"})
    assert topic.drain(5)
    topic.stop()
    assert len(attempts) == 3
    assert len(dead) == 1 and "ValueError: poison" in dead[0][2]
    assert (topic.stats.retried, topic.stats.dead_lettered, topic.stats.delivered) == (2, 1, 0)


def test_a_transient_failure_is_delivered_once_on_retry() -> None:
    calls: list[int] = []

    def flaky(event: dict[str, Any], context: Any) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("table busy")

    topic = LocalTopic("analysis", flaky, lambda *a: None, backoff_s=0.01).start()
    topic.publish({"article_keys": ["x"]})
    assert topic.drain(5)
    topic.stop()
    assert len(calls) == 2 and topic.stats.delivered == 1


def test_scheduler_runs_on_interval_and_on_demand() -> None:
    events: list[dict[str, Any]] = []
    ticked = threading.Event()

    def handler(event: dict[str, Any], context: Any) -> str:
        events.append(event)
        if len(events) >= 2:
            ticked.set()
        return "ran"

    scheduler = LocalScheduler()
    scheduler.add("ingestion", 0.05, handler)
    assert scheduler.trigger("ingestion") == "ran"
    scheduler.start()
    assert ticked.wait(5)
    scheduler.stop()
    assert events[0]["detail-type"] == "Scheduled Event"
    assert events[0]["source"] == "aws.events"
    assert events[0]["resources"][0].endswith(":rule/ingestion")
    assert scheduler.schedules["ingestion"].runs >= 2


def test_scheduled_event_has_eventbridge_fields() -> None:
    event = scheduled_event("metrics")
    assert set(event) >= {"version", "id", "detail-type", "source", "time", "region", "detail"}

"""The local SNS topic: delivers messages to a Lambda-style handler in SNS event envelopes.

Like SNS with an async Lambda subscription: each message is delivered in its own event
(one record), by worker threads; a failed delivery is retried with backoff, and after the
last attempt the message goes to the dead-letter sink instead of being lost.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.clock import iso, utc_now
from services.local.function_url import LocalLambdaContext

LOG = logging.getLogger(__name__)

LambdaHandler = Callable[[dict[str, Any], Any], Any]
DeadLetterSink = Callable[[str, dict[str, Any], str], None]


def sns_event(topic_arn: str, message_id: str, message: dict[str, Any]) -> dict[str, Any]:
    """The event SNS sends a subscribed Lambda function for one message."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": None,
                    "Message": json.dumps(message),
                    "Timestamp": iso(utc_now()),
                    "SignatureVersion": "1",
                    "Signature": "LOCAL",
                    "SigningCertUrl": "",
                    "UnsubscribeUrl": "",
                    "MessageAttributes": {},
                },
            }
        ]
    }


@dataclass
class TopicStats:
    published: int = 0
    delivered: int = 0
    retried: int = 0
    dead_lettered: int = 0


@dataclass
class LocalTopic:
    """A topic with one Lambda subscriber. `publish` never blocks on the subscriber."""

    name: str
    handler: LambdaHandler
    dead_letter: DeadLetterSink
    workers: int = 2
    max_attempts: int = 3
    backoff_s: float = 0.2
    stats: TopicStats = field(default_factory=TopicStats)
    _queue: queue.Queue[tuple[str, dict[str, Any], int] | None] = field(default_factory=queue.Queue)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _in_flight: int = 0

    @property
    def arn(self) -> str:
        return f"arn:aws:sns:us-east-1:000000000000:{self.name}"

    def start(self) -> LocalTopic:
        for index in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"{self.name}-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def publish(self, message: dict[str, Any]) -> str:
        message_id = str(uuid.uuid4())
        with self._lock:
            self.stats.published += 1
            self._in_flight += 1
        self._queue.put((message_id, message, 1))
        return message_id

    def drain(self, timeout_s: float = 60.0) -> bool:
        """Wait until every published message is delivered or dead-lettered."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if self._in_flight == 0:
                    return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            message_id, message, attempt = item
            self._deliver(message_id, message, attempt)

    def _deliver(self, message_id: str, message: dict[str, Any], attempt: int) -> None:
        context = LocalLambdaContext(function_name=self.name, aws_request_id=str(uuid.uuid4()))
        try:
            self.handler(sns_event(self.arn, message_id, message), context)
        except Exception as error:
            if attempt < self.max_attempts:
                with self._lock:
                    self.stats.retried += 1
                # Retry later on a timer so a worker is not parked on a sleeping message.
                timer = threading.Timer(
                    self.backoff_s * 2 ** (attempt - 1),
                    self._queue.put,
                    args=((message_id, message, attempt + 1),),
                )
                timer.daemon = True
                timer.start()
                return
            LOG.warning("message %s dead-lettered after %d attempts", message_id, attempt)
            self.dead_letter(message_id, message, f"{type(error).__name__}: {error}")
            with self._lock:
                self.stats.dead_lettered += 1
                self._in_flight -= 1
            return
        with self._lock:
            self.stats.delivered += 1
            self._in_flight -= 1

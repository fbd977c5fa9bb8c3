"""The local EventBridge: runs functions on fixed intervals with scheduled-event payloads."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from services.clock import utc_now
from services.local.function_url import LocalLambdaContext

LOG = logging.getLogger(__name__)

LambdaHandler = Callable[[dict[str, Any], Any], Any]


def scheduled_event(rule: str, region: str = "us-east-1") -> dict[str, Any]:
    """The payload an EventBridge schedule rule sends its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": utc_now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:000000000000:rule/{rule}"],
        "detail": {},
    }


@dataclass
class Schedule:
    rule: str
    interval_s: float
    handler: LambdaHandler
    runs: int = 0
    failures: int = 0
    last_result: Any = None


@dataclass
class LocalScheduler:
    """One thread per rule, running it at start and then every interval; `trigger` runs a
    rule now, on the caller's thread."""

    schedules: dict[str, Schedule] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)

    def add(self, rule: str, interval_s: float, handler: LambdaHandler) -> None:
        self.schedules[rule] = Schedule(rule, interval_s, handler)
        self._locks[rule] = threading.Lock()

    def start(self) -> LocalScheduler:
        for schedule in self.schedules.values():
            thread = threading.Thread(
                target=self._loop, args=(schedule,), name=f"schedule-{schedule.rule}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def trigger(self, rule: str, *, raise_errors: bool = False) -> Any:
        """Run `rule` now. Errors are logged (as Lambda would) unless `raise_errors`."""
        schedule = self.schedules[rule]
        # One run of a rule at a time, as with a Lambda of reserved concurrency 1.
        with self._locks[rule]:
            context = LocalLambdaContext(function_name=rule, aws_request_id=str(uuid.uuid4()))
            try:
                schedule.last_result = schedule.handler(scheduled_event(rule), context)
            except Exception:
                schedule.failures += 1
                LOG.exception("scheduled run of %s failed", rule)
                if raise_errors:
                    raise
                return None
            finally:
                schedule.runs += 1
            return schedule.last_result

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()

    def _loop(self, schedule: Schedule) -> None:
        # Once at start, then every interval: a new stack has news, metrics and digests at
        # once rather than after a whole interval.
        while not self._stop.is_set():
            self.trigger(schedule.rule)
            if self._stop.wait(schedule.interval_s):
                return

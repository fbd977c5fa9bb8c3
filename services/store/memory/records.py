"""What the functions record for the operator in memory: the price cache, request minutes and
metrics snapshots, cache counters, ingestion runs and dead letters.

Values go through JSON on the way in, as the table stores them as JSON text: a caller's later
change to its dict never reaches the stored copy, and what JSON cannot hold fails here too.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from services.clock import iso
from services.store.cache_counts import PublishedCaches
from services.store.metrics import MAX_MINUTE_BYTES, ApiMinute, ApiMinuteTooLargeError
from services.store.ohlc_cache import MAX_PAYLOAD_BYTES, CachedCandles, encode_candles


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


class InMemoryOhlcCache:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str, str], tuple[CachedCandles, datetime]] = {}

    def get(
        self, ticker: str, resolution: str, range_name: str, now: datetime
    ) -> CachedCandles | None:
        """The stored copy, fresh or not; None when absent or past its expiry."""
        found = self.entries.get((ticker, resolution, range_name))
        if found is None or found[1] <= now:
            return None
        return found[0]

    def put(self, entry: CachedCandles, expires_at: datetime) -> bool:
        # The table's size rule, on the same encoding, so a copy refused there is refused here.
        if len(encode_candles(entry.candles)) > MAX_PAYLOAD_BYTES:
            return False
        self.entries[(entry.ticker, entry.resolution, entry.range_name)] = (entry, expires_at)
        return True


class InMemoryMetricsStore:
    def __init__(self) -> None:
        # Keyed by the table's sort keys, so reads order and bound them the same way.
        self.minutes: dict[str, ApiMinute] = {}
        self.snapshot_texts: dict[str, str] = {}
        self._lock = threading.Lock()

    def put_api_minute(
        self,
        minute: datetime,
        instance: str,
        stats: Mapping[str, Any],
        caches: Mapping[str, Any],
    ) -> None:
        data = json.dumps({"stats": stats, "caches": caches})
        size = len(data.encode())
        if size > MAX_MINUTE_BYTES:
            raise ApiMinuteTooLargeError(
                f"the API minute {iso(minute)} of {instance} is {size} bytes; "
                f"at most {MAX_MINUTE_BYTES} fit in an item"
            )
        stored = json.loads(data)
        with self._lock:
            self.minutes[f"{iso(minute)}#{instance}"] = ApiMinute(
                minute, instance, stored["stats"], stored["caches"]
            )

    def api_minutes(self, since: datetime, until: datetime) -> list[ApiMinute]:
        low, high = iso(since), f"{iso(until)}~"
        with self._lock:
            return [m for key, m in sorted(self.minutes.items()) if low <= key <= high]

    def put_snapshot(self, snapshot: Mapping[str, Any], at: datetime) -> None:
        with self._lock:
            self.snapshot_texts[iso(at)] = json.dumps(snapshot)

    def latest_snapshot(self) -> dict[str, Any] | None:
        with self._lock:
            if not self.snapshot_texts:
                return None
            loaded: dict[str, Any] = json.loads(self.snapshot_texts[max(self.snapshot_texts)])
        return loaded

    def snapshots(self, since: datetime, limit: int = 120) -> list[dict[str, Any]]:
        """The newest `limit` snapshots since `since`, oldest first."""
        with self._lock:
            keys = sorted(k for k in self.snapshot_texts if k >= iso(since))[-limit:]
            return [json.loads(self.snapshot_texts[k]) for k in keys] if limit > 0 else []


class InMemoryCacheCounts:
    def __init__(self, *, keep: timedelta = timedelta(minutes=10)) -> None:
        self.published: dict[str, PublishedCaches] = {}
        self.keep = keep

    def publish(self, counts: PublishedCaches) -> None:
        self.published[counts.instance] = PublishedCaches(
            instance=counts.instance,
            pid=counts.pid,
            published_at=counts.published_at,
            layers=_copy(counts.layers),
        )

    def published_since(self, since: datetime) -> list[PublishedCaches]:
        found = [p for p in self.published.values() if p.published_at >= since]
        return sorted(found, key=lambda p: p.instance)


class InMemoryIngestionRunRepository:
    def __init__(self) -> None:
        self.runs: dict[str, dict[str, Any]] = {}

    def save(self, summary: dict[str, Any]) -> None:
        self.runs[str(summary["started_at"])] = _copy(summary)

    def latest(self, limit: int = 10) -> list[dict[str, Any]]:
        newest = sorted(self.runs, reverse=True)[:limit]
        return [_copy(self.runs[started]) for started in newest]


class InMemoryDeadLetterRepository:
    def __init__(self) -> None:
        self.letters: dict[tuple[str, str], dict[str, Any]] = {}

    def save(
        self, topic: str, message_id: str, message: dict[str, Any], reason: str, now: datetime
    ) -> None:
        self.letters[(topic, message_id)] = {
            "message_id": message_id,
            "message": _copy(message),
            "reason": reason[:1000],
            "failed_at": iso(now),
        }

    def list(self, topic: str, limit: int = 50) -> list[dict[str, Any]]:
        mine = sorted((m, letter) for (t, m), letter in self.letters.items() if t == topic)
        return [_copy(letter) for _, letter in mine[:limit]]

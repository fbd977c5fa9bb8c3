"""The shared (L2) price cache: one item per ticker, resolution and range.

An item carries two times: `fresh_until`, after which the prices should be fetched again, and
`expires_at` (the table's TTL), much later, so a copy is still there to serve (marked stale)
while the provider is down. The candles are stored as gzipped JSON rows: a year of hourly
bars as a DynamoDB list of maps would cost several times the write units and come close to
the 400 KB item limit.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Protocol

from services.adapters.models import Candle
from services.clock import epoch_seconds, iso, parse_iso
from services.store import keys
from services.store.items import is_live

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

ENTITY = "ohlc_cache"
# Keeps a write well inside the item limit, whatever the provider returned.
MAX_PAYLOAD_BYTES = 350_000


@dataclass(frozen=True, slots=True)
class CachedCandles:
    ticker: str
    resolution: str
    range_name: str
    candles: tuple[Candle, ...]
    start_date: date
    end_date: date
    source: str
    fetched_at: datetime
    fresh_until: datetime

    def is_fresh(self, now: datetime) -> bool:
        return now < self.fresh_until


class OhlcCacheStore(Protocol):
    def get(
        self, ticker: str, resolution: str, range_name: str, now: datetime
    ) -> CachedCandles | None: ...
    def put(self, entry: CachedCandles, expires_at: datetime) -> bool: ...


class DynamoOhlcCache:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get(
        self, ticker: str, resolution: str, range_name: str, now: datetime
    ) -> CachedCandles | None:
        """The stored copy, fresh or not; None when absent or past its TTL (deleted lazily)."""
        item = self._table.get_item(Key=keys.ohlc_cache(ticker, resolution, range_name)).get("Item")
        if item is None or not is_live(item, now):
            return None
        return CachedCandles(
            ticker=str(item["ticker"]),
            resolution=str(item["resolution"]),
            range_name=str(item["range"]),
            candles=decode_candles(_bytes(item["candles"])),
            start_date=date.fromisoformat(str(item["start_date"])),
            end_date=date.fromisoformat(str(item["end_date"])),
            source=str(item["source"]),
            fetched_at=parse_iso(str(item["fetched_at"])),
            fresh_until=parse_iso(str(item["fresh_until"])),
        )

    def put(self, entry: CachedCandles, expires_at: datetime) -> bool:
        """Store the copy (last writer wins: any copy is as good as another); False when too
        large to keep."""
        payload = encode_candles(entry.candles)
        if len(payload) > MAX_PAYLOAD_BYTES:
            return False
        self._table.put_item(
            Item={
                **keys.ohlc_cache(entry.ticker, entry.resolution, entry.range_name),
                "entity": ENTITY,
                "ticker": entry.ticker,
                "resolution": entry.resolution,
                "range": entry.range_name,
                "source": entry.source,
                "start_date": entry.start_date.isoformat(),
                "end_date": entry.end_date.isoformat(),
                "count": len(entry.candles),
                "candles": payload,
                "fetched_at": iso(entry.fetched_at),
                "fresh_until": iso(entry.fresh_until),
                "expires_at": epoch_seconds(expires_at),
            }
        )
        return True


def encode_candles(candles: Sequence[Candle]) -> bytes:
    rows = [[epoch_seconds(c.timestamp), c.open, c.high, c.low, c.close, c.volume] for c in candles]
    return gzip.compress(json.dumps(rows, separators=(",", ":")).encode(), mtime=0)


def decode_candles(payload: bytes) -> tuple[Candle, ...]:
    rows: list[list[Any]] = json.loads(gzip.decompress(payload))
    return tuple(
        Candle(
            datetime.fromtimestamp(int(r[0]), UTC),
            float(r[1]),
            float(r[2]),
            float(r[3]),
            float(r[4]),
            int(r[5]),
        )
        for r in rows
    )


def _bytes(value: Any) -> bytes:
    # boto3 hands binary attributes back wrapped in `Binary`.
    return bytes(value.value) if hasattr(value, "value") else bytes(value)

"""A small closed-loop HTTP/1.1 load generator, run in its own process.

The server under test is Python too; a client in the same process would share its GIL and
measure itself. This one keeps `concurrency` clients, each on a keep-alive connection, sending
the next request as soon as the previous answer is read, and records each request's latency
and status. A server that closes the connection after its answer (`Connection: close`, as the
pool's sync workers do) is connected to again, and the connect counts in the next request's
latency, as it would for any caller. Raw asyncio streams keep its own cost per request far
below the server's.

    python -m tests.benchmarks.loadgen < plan.json > result.json

plan: {"url": "http://127.0.0.1:PORT", "concurrency": 20,
       "requests": [{"path": "/x", "headers": {"Authorization": "Bearer ..."}}, ...]}
Requests are taken in order from one shared queue, so each is sent exactly once.
result: {"latencies_s": [...], "statuses": {"200": n, ...}, "elapsed_s": s}
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit


def _request_bytes(host: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """The answer's status, and whether the server closes the connection after it."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, header_block = head.partition(b"\r\n")
    length = 0
    closes = False
    for line in header_block.split(b"\r\n"):
        name, _, value = line.partition(b":")
        field = name.strip().lower()
        if field == b"content-length":
            length = int(value)
        elif field == b"connection":
            closes = value.strip().lower() == b"close"
    if length:
        await reader.readexactly(length)
    return int(status_line.split(b" ", 2)[1]), closes


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    split = urlsplit(plan["url"])
    host, port = split.hostname or "127.0.0.1", split.port or 80
    pending = [
        _request_bytes(f"{host}:{port}", r["path"], r.get("headers", {})) for r in plan["requests"]
    ]
    pending.reverse()  # pop() from the end keeps the plan's order
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def connection() -> None:
        streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while pending:
                request = pending.pop()
                started = time.perf_counter()
                if streams is None:
                    streams = await asyncio.open_connection(host, port)
                reader, writer = streams
                writer.write(request)
                status, closes = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                statuses[status] += 1
                if closes:
                    writer.close()
                    streams = None
        finally:
            if streams is not None:
                streams[1].close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(int(plan["concurrency"]))))
    elapsed = time.perf_counter() - started
    return {
        "latencies_s": latencies,
        "statuses": {str(k): v for k, v in statuses.items()},
        "elapsed_s": elapsed,
    }


def main() -> None:
    json.dump(asyncio.run(run(json.load(sys.stdin))), sys.stdout)


if __name__ == "__main__":
    main()

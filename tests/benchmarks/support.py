"""What the benchmarks of the API's read routes share: the embedded stack with its watchlist's
news ingested and analyzed, and signed-in users, each reading a configuration of their own."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from services.local.stack import LocalStack
from services.settings import Settings
from tests.benchmarks.harness import Context
from tests.e2e.api_support import api_stack, sign_in


@contextmanager
def stack_with_news(ctx: Context, settings: Settings, **options: Any) -> Iterator[LocalStack]:
    """The embedded stack with the news pipeline and no schedules, in a state directory of its
    own, once an ingestion cycle has run and analysis has scored all it stored: the figures
    are taken on a table that holds the news, and no cycle runs while they are."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-stack-") as state,
        api_stack(
            ctx.root, Path(state), settings=settings, pipeline=True, schedules=False, **options
        ) as stack,
    ):
        assert stack.api is not None and stack.pipeline is not None
        assert stack.pipeline.topic is not None
        stack.pipeline.run_ingestion_now()
        stack.pipeline.topic.drain(timeout_s=300)
        yield stack


def configuration_reads(
    client: httpx.Client, users: int, tickers: Sequence[str]
) -> list[dict[str, Any]]:
    """`users` new anonymous users, each with a configuration of `tickers`: per user, the load
    generator's request for that configuration's sentiment, under the user's session."""
    reads = []
    for _ in range(users):
        headers = sign_in(client)
        created = client.post(
            "/api/v2/configurations",
            headers=headers,
            json={"name": "bench", "tickers": list(tickers)},
        )
        created.raise_for_status()
        path = f"/api/v2/configurations/{created.json()['config_id']}/sentiment"
        reads.append({"path": path, "headers": headers})
    return reads

"""Counting the DynamoDB reads each thread makes, so a cache can measure what a load cost.

A botocore hook on the table's client adds one to the calling thread's counter before every
read call (GetItem, BatchGetItem, Query, Scan, TransactGetItems; each page of a paginated
read is a call of its own). A cache reads the counter before and after its loader: the
difference is the reads that load made, loads nested inside it included, and what each later
hit on that entry avoids. Measured, not assumed: a loader that changes what it reads changes
the figure with it.

The count is per thread because a request's loader runs on the request's thread while other
threads (the local pipeline's workers) read the same table at the same time.
"""

from __future__ import annotations

import threading
from typing import Any

READ_OPERATIONS = ("GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems")
_HOOK_ID = "caching-read-counter"

_counter = threading.local()


def reads_on_this_thread() -> int:
    """How many read calls this thread has made through a watched client, ever."""
    reads: int = getattr(_counter, "reads", 0)
    return reads


def record_read(**_: Any) -> None:
    """The hook botocore calls before a read (tests call it to stand for one)."""
    _counter.reads = getattr(_counter, "reads", 0) + 1


def watch_reads(client: Any) -> None:
    """Count the read calls made through `client` (a boto3 DynamoDB client). Safe to call
    again for the same client: botocore keeps one handler per unique id."""
    events = client.meta.events
    for operation in READ_OPERATIONS:
        events.register(
            f"before-call.dynamodb.{operation}", record_read, unique_id=f"{_HOOK_ID}-{operation}"
        )

"""What the API's routes depend on, built once per process and passed in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from services.clock import Clock, utc_now
from services.settings import Settings
from services.store.table import dynamodb_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table


@dataclass
class ApiDependencies:
    """Collaborators of the routes. Tests pass their own; the handler builds the defaults."""

    settings: Settings
    clock: Clock = field(default=utc_now)
    table_override: Table | None = None
    # Runs one ingestion cycle and returns its summary (the local stack runs it in-process).
    ingestion_runner: Callable[[], dict[str, Any]] | None = None
    # Counters only the runtime knows (e.g. the local topic's published/delivered/dead-lettered).
    pipeline_stats: Callable[[], dict[str, int]] | None = None

    @cached_property
    def table(self) -> Table:
        # Built on first use, never at import time, so importing the handler is cheap.
        return self.table_override or dynamodb_table(self.settings)

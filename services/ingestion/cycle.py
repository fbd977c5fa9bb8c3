"""One scheduled ingestion cycle: which tickers, the run itself, and its record."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from services.ingestion.run import IngestionDependencies, run_ingestion
from services.observability import get_logger
from services.store.configurations import ConfigurationRepository
from services.store.ingestion_runs import IngestionRunRepository

LOGGER = get_logger("ingestion")


@dataclass(frozen=True)
class IngestionCycle:
    fetch: IngestionDependencies
    configurations: ConfigurationRepository
    runs: IngestionRunRepository
    # The default watchlist, fetched whether or not anybody tracks it.
    watchlist: Sequence[str]
    # Writes the cycle's quota counts out (None: nothing kept in memory to write).
    flush_quotas: Callable[[], None] | None = None


def tickers_to_fetch(cycle: IngestionCycle) -> list[str]:
    """Every ticker of a live configuration, plus the default watchlist."""
    return sorted(set(cycle.configurations.tracked_tickers()) | set(cycle.watchlist))


def run_cycle(cycle: IngestionCycle) -> dict[str, Any]:
    summary = asdict(run_ingestion(tickers_to_fetch(cycle), cycle.fetch))
    if cycle.flush_quotas is not None:
        # The cycle's quota counts reach the table now, not at the next cycle: between
        # cycles a Lambda environment is frozen (or gone, with whatever it had not written).
        cycle.flush_quotas()
    cycle.runs.save(summary)
    LOGGER.info("ingestion cycle finished", extra={"summary": summary})
    return summary

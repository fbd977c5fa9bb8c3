"""Monthly cost of one environment from stated usage assumptions.

Pure functions over frozen dataclasses: `monthly_cost(assumptions)` gives a line per service
with the quantity it is charged for; `cost_grid` shows how the total grows with users and
tickers. `SEED_DEV` holds the seed's dev environment, whose estimate is about $2.50/month.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from services.costs.prices import ALWAYS_FREE, US_EAST_1, FreeTier, Prices

MINUTES_PER_DAY = 24 * 60
FUNCTIONS = ("ingestion", "analysis", "dashboard", "notification", "metrics")


@dataclass(frozen=True)
class FunctionProfile:
    """What one invocation of a function costs: its duration and its table traffic."""

    duration_ms: float
    read_units: float = 0.0
    write_units: float = 0.0


@dataclass(frozen=True)
class UsageAssumptions:
    """Everything the estimate depends on. Defaults are the seed's dev environment.

    From the seed: 128 MB functions, DynamoDB on demand, ingestion every 5 minutes, metrics
    every minute, a daily digest, free tier used where it applies, and 80-95 % of reads saved
    by the caches (the low end is taken). From the project: the 8-ticker default watchlist,
    three provider keys in Secrets Manager (Tiingo, Finnhub, SendGrid), and the per-call
    durations and table units below, read off the functions' code paths.
    """

    users: int = 10
    tickers: int = 8
    days_per_month: float = 30.0
    # Dashboard API calls of a user per day (the workbench polls a few routes when open).
    requests_per_user_per_day: float = 50.0
    ingestion_interval_minutes: float = 5.0
    metrics_interval_minutes: float = 1.0
    digests_per_day: float = 1.0
    # New stories per tracked ticker per day across both providers, after de-duplication.
    articles_per_ticker_per_day: float = 15.0
    alert_emails_per_user_per_day: float = 0.2
    lambda_memory_mb: int = 128
    # Fixed part of an ingestion run, plus per ticker (two providers, fetched in parallel).
    ingestion: FunctionProfile = FunctionProfile(duration_ms=1500, read_units=5, write_units=3)
    ingestion_per_ticker: FunctionProfile = FunctionProfile(
        duration_ms=150, read_units=1, write_units=0
    )
    # Per stored story: the article, a tag item per ticker, the analysed update, the buckets.
    article_write_units: float = 6.0
    # One analysis message (a batch of one ticker's new stories), per article in it.
    analysis_per_article: FunctionProfile = FunctionProfile(duration_ms=60, read_units=2)
    analysis_overhead_ms: float = 120.0
    # One dashboard request before caching (session, configuration, sentiment buckets).
    dashboard: FunctionProfile = FunctionProfile(duration_ms=60, read_units=3, write_units=0.5)
    # Share of the dashboard's and scheduled functions' reads the caches answer (seed: 80-95 %).
    cache_read_reduction: float = 0.80
    # One metrics run: GSI counts and distributions, one summary item written.
    metrics: FunctionProfile = FunctionProfile(duration_ms=400, read_units=20, write_units=1)
    notification: FunctionProfile = FunctionProfile(duration_ms=500, read_units=4, write_units=2)
    # Secrets Manager: secrets kept, and how often a function environment starts cold and
    # reads the keys it needs (each function caches them for the life of its environment).
    secrets: int = 3
    functions_reading_secrets: int = 3
    cold_starts_per_function_per_day: float = 24.0
    secret_reads_per_cold_start: float = 1.5
    # CloudWatch: distinct custom metric series the functions emit through EMF (sentiment
    # distribution 3, pipeline counts 2, ingestion rate 1, latency p50/p99 2, hit rate of the
    # seed's 5 cache layers 5, cold starts 1), and log bytes per invocation (Lambda's START,
    # END and REPORT lines plus the function's JSON lines).
    custom_metrics: int = 14
    log_bytes_per_invocation: float = 1500.0
    log_retention_months: float = 0.25
    # X-Ray samples the first request each second and 5 % of the rest; at these rates that
    # is nearly every invocation.
    traced_fraction: float = 1.0
    # Table size, and the parity row's PITR and daily backups (off in dev).
    table_gb: float = 0.2
    point_in_time_recovery: bool = False
    daily_backups: bool = False
    backup_retention_days: float = 35.0


@dataclass(frozen=True)
class LineItem:
    service: str
    item: str
    quantity: float
    unit: str
    cost_usd: float


@dataclass(frozen=True)
class CostBreakdown:
    """Every charged quantity of a month with its cost; totals by service."""

    assumptions: UsageAssumptions
    lines: tuple[LineItem, ...]
    invocations: dict[str, float] = field(default_factory=dict)

    @property
    def total_usd(self) -> float:
        return sum(line.cost_usd for line in self.lines)

    def by_service(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.service] = totals.get(line.service, 0.0) + line.cost_usd
        return totals


@dataclass(frozen=True)
class CostPoint:
    users: int
    tickers: int
    total_usd: float
    by_service: dict[str, float]


def _billable(quantity: float, free: float) -> float:
    return max(0.0, quantity - free)


def monthly_invocations(a: UsageAssumptions) -> dict[str, float]:
    """Invocations per function in a month."""
    days = a.days_per_month
    articles = a.tickers * a.articles_per_ticker_per_day * days
    ingestion_runs = days * MINUTES_PER_DAY / a.ingestion_interval_minutes
    return {
        "ingestion": ingestion_runs,
        # A run publishes one message per ticker with new stories; with few stories per run,
        # nearly each story is its own message, never more messages than runs x tickers.
        "analysis": min(articles, ingestion_runs * a.tickers),
        "dashboard": a.users * a.requests_per_user_per_day * days,
        "notification": days * a.digests_per_day + a.users * a.alert_emails_per_user_per_day * days,
        "metrics": days * MINUTES_PER_DAY / a.metrics_interval_minutes,
    }


def _durations_ms(a: UsageAssumptions, invocations: dict[str, float]) -> dict[str, float]:
    """Total milliseconds per function in a month."""
    articles = a.tickers * a.articles_per_ticker_per_day * a.days_per_month
    return {
        "ingestion": invocations["ingestion"]
        * (a.ingestion.duration_ms + a.tickers * a.ingestion_per_ticker.duration_ms),
        "analysis": invocations["analysis"] * a.analysis_overhead_ms
        + articles * a.analysis_per_article.duration_ms,
        "dashboard": invocations["dashboard"] * a.dashboard.duration_ms,
        "notification": invocations["notification"] * a.notification.duration_ms,
        "metrics": invocations["metrics"] * a.metrics.duration_ms,
    }


def _table_units(a: UsageAssumptions, invocations: dict[str, float]) -> tuple[float, float]:
    """(read units, write units) of a month."""
    articles = a.tickers * a.articles_per_ticker_per_day * a.days_per_month
    uncached = 1.0 - a.cache_read_reduction
    reads = (
        invocations["ingestion"]
        * (a.ingestion.read_units + a.tickers * a.ingestion_per_ticker.read_units)
        + articles * a.analysis_per_article.read_units
        + invocations["dashboard"] * a.dashboard.read_units * uncached
        + invocations["notification"] * a.notification.read_units
        + invocations["metrics"] * a.metrics.read_units
    )
    writes = (
        invocations["ingestion"] * a.ingestion.write_units
        + articles * a.article_write_units
        + invocations["dashboard"] * a.dashboard.write_units
        + invocations["notification"] * a.notification.write_units
        + invocations["metrics"] * a.metrics.write_units
    )
    return reads, writes


def monthly_cost(
    assumptions: UsageAssumptions,
    prices: Prices = US_EAST_1,
    free_tier: FreeTier = ALWAYS_FREE,
) -> CostBreakdown:
    """The month's bill of one environment, line by line."""
    a = assumptions
    invocations = monthly_invocations(a)
    lines = (
        *_lambda_lines(a, invocations, prices, free_tier),
        *_dynamodb_lines(a, invocations, prices, free_tier),
        *_messaging_lines(a, invocations, prices, free_tier),
        *_observability_lines(a, invocations, prices, free_tier),
    )
    return CostBreakdown(assumptions=a, lines=lines, invocations=invocations)


def _lambda_lines(
    a: UsageAssumptions, invocations: dict[str, float], p: Prices, free: FreeTier
) -> tuple[LineItem, ...]:
    requests = sum(invocations.values())
    gb_seconds = sum(_durations_ms(a, invocations).values()) / 1000 * (a.lambda_memory_mb / 1024)
    return (
        LineItem("Lambda", "requests", requests, "requests",
                 _billable(requests, free.lambda_requests) / 1e6 * p.lambda_per_million_requests),
        LineItem("Lambda", "duration", gb_seconds, "GB-s",
                 _billable(gb_seconds, free.lambda_gb_seconds) * p.lambda_per_gb_second),
    )  # fmt: skip


def _dynamodb_lines(
    a: UsageAssumptions, invocations: dict[str, float], p: Prices, free: FreeTier
) -> tuple[LineItem, ...]:
    reads, writes = _table_units(a, invocations)
    pitr_gb = a.table_gb if a.point_in_time_recovery else 0.0
    backup_gb = _backup_gb(a)
    return (
        LineItem("DynamoDB", "write request units", writes, "WRU",
                 writes / 1e6 * p.dynamodb_per_million_write_units),
        LineItem("DynamoDB", "read request units", reads, "RRU",
                 reads / 1e6 * p.dynamodb_per_million_read_units),
        LineItem("DynamoDB", "storage", a.table_gb, "GB-month",
                 _billable(a.table_gb, free.dynamodb_storage_gb) * p.dynamodb_storage_per_gb_month),
        LineItem("DynamoDB", "point-in-time recovery", pitr_gb, "GB-month",
                 pitr_gb * p.dynamodb_pitr_per_gb_month),
        LineItem("DynamoDB", "daily backups", backup_gb, "GB-month",
                 backup_gb * p.dynamodb_backup_per_gb_month),
    )  # fmt: skip


def _messaging_lines(
    a: UsageAssumptions, invocations: dict[str, float], p: Prices, free: FreeTier
) -> tuple[LineItem, ...]:
    """SNS (one publish per analysis message), EventBridge's schedules, Secrets Manager."""
    publishes = invocations["analysis"]
    scheduled = (
        invocations["ingestion"] + invocations["metrics"] + a.digests_per_day * a.days_per_month
    )
    secret_calls = (
        a.functions_reading_secrets
        * a.cold_starts_per_function_per_day
        * a.days_per_month
        * a.secret_reads_per_cold_start
    )
    return (
        LineItem("SNS", "publishes", publishes, "requests",
                 _billable(publishes, free.sns_publishes) / 1e6 * p.sns_per_million_publishes),
        LineItem("SNS", "Lambda deliveries", publishes, "deliveries",
                 publishes / 1e6 * p.sns_per_million_lambda_deliveries),
        LineItem("EventBridge", "scheduled events", scheduled, "events",
                 scheduled / 1e6 * p.eventbridge_per_million_scheduled_events),
        LineItem("Secrets Manager", "secrets", a.secrets, "secret-months",
                 a.secrets * p.secrets_manager_per_secret_month),
        LineItem("Secrets Manager", "API calls", secret_calls, "calls",
                 secret_calls / 1e4 * p.secrets_manager_per_10k_api_calls),
    )  # fmt: skip


def _observability_lines(
    a: UsageAssumptions, invocations: dict[str, float], p: Prices, free: FreeTier
) -> tuple[LineItem, ...]:
    """CloudWatch's logs and custom metrics, X-Ray's traces."""
    requests = sum(invocations.values())
    log_gb = requests * a.log_bytes_per_invocation / 1e9
    stored_log_gb = log_gb * a.log_retention_months
    billable_metrics = _billable(a.custom_metrics, free.cloudwatch_metrics)
    traces = requests * a.traced_fraction
    return (
        LineItem("CloudWatch", "log ingestion", log_gb, "GB",
                 _billable(log_gb, free.cloudwatch_logs_gb) * p.cloudwatch_logs_per_gb_ingested),
        LineItem("CloudWatch", "log storage", stored_log_gb, "GB-month",
                 stored_log_gb * p.cloudwatch_logs_per_gb_month_stored),
        LineItem("CloudWatch", "custom metrics", a.custom_metrics, "metric-months",
                 billable_metrics * p.cloudwatch_per_custom_metric_month),
        LineItem("X-Ray", "traces", traces, "traces",
                 _billable(traces, free.xray_traces) / 1e6 * p.xray_per_million_traces),
    )  # fmt: skip


def _backup_gb(a: UsageAssumptions) -> float:
    # Daily backups are incremental in AWS Backup's accounting only for the changes; a full
    # copy per retained day is the upper bound used here.
    return a.table_gb * a.backup_retention_days if a.daily_backups else 0.0


def cost_grid(
    base: UsageAssumptions,
    users: Sequence[int],
    tickers: Sequence[int],
    prices: Prices = US_EAST_1,
    free_tier: FreeTier = ALWAYS_FREE,
) -> list[CostPoint]:
    """The total for every (users, tickers) pair, everything else as in `base`."""
    points = []
    for u in users:
        for t in tickers:
            breakdown = monthly_cost(replace(base, users=u, tickers=t), prices, free_tier)
            points.append(CostPoint(u, t, breakdown.total_usd, breakdown.by_service()))
    return points


# The seed's dev environment and its estimate ("~$2.50/mo dev environment").
SEED_DEV = UsageAssumptions()
SEED_DEV_ESTIMATE_USD = 2.50

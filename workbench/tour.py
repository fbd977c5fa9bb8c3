"""The interview tour: one step per section, in the Deep Dive's order, with what to say there.

Each step's bullets are the talking points; the section itself, live, is the figure that
backs them. Keep them short: they are read aloud while the page shows the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TourStep:
    section: str
    title: str
    bullets: tuple[str, ...]


TOUR: tuple[TourStep, ...] = (
    TourStep(
        "overview",
        "What we are building",
        (
            "Financial news from Tiingo and Finnhub, scored for sentiment, served per "
            "watchlist through one REST API, with e-mail alerts.",
            "Key decisions: one DynamoDB table with 3 GSIs, a Lambda Function URL instead "
            "of API Gateway, in-memory caches for warm invocations, a circuit breaker per "
            "external service.",
            "The numbers on the tiles are measured, not quoted: tests passing from the "
            "latest reports, the dev environment's monthly cost, the read reduction the "
            "caches achieved, p99 latency against a target under 100 ms.",
        ),
    ),
    TourStep(
        "architecture",
        "An event-driven pipeline",
        (
            "Ingestion runs every 5 minutes and writes stories as pending; SNS fans them out "
            "to analysis, which scores them and marks them analyzed.",
            "The dashboard function serves the API from the GSIs; the notification function "
            "evaluates alerts and sends e-mails.",
            "The counts per stage are live, and so are the table's items per entity and per "
            "GSI: a single-table design keyed by USER#, CONFIG#, TOKEN#.",
        ),
    ),
    TourStep(
        "authentication",
        "Three ways in",
        (
            "An anonymous session to start at once, with the smallest limits.",
            "A magic link by e-mail: passwordless, single use, valid 15 minutes, and it turns "
            "the anonymous session into an account.",
            "OAuth 2.0 through Cognito: the page runs the whole round trip, and a callback this "
            "browser did not start is refused.",
        ),
    ),
    TourStep(
        "configurations",
        "Watchlists and their rules",
        (
            "At most 2 configurations per account (1 anonymous) and 5 tickers each, tickers "
            "checked against the exchange list: the limits shown are the API's own.",
            "Errors come back as one envelope naming the field at fault.",
            "The list is cached 60 s in memory and invalidated on every change: its hit rate "
            "and the reads it saved are shown under the list.",
        ),
    ),
    TourStep(
        "sentiment",
        "Sentiment from several sources",
        (
            "Per ticker: Tiingo news, Finnhub's scores, our own model, and the aggregate, a "
            "confidence-weighted blend.",
            "A missing source does not break the answer: `source_status` says which ones "
            "answered and why one did not.",
            "`X-Cache` shows whether the answer came from the cache.",
        ),
    ),
    TourStep(
        "prices",
        "Price with sentiment",
        (
            "Candlesticks from the OHLC route with the chosen source's sentiment history on "
            "a second axis and volume below, linked on time.",
            "Ranges and sources are the ones the API's OpenAPI document accepts.",
        ),
    ),
    TourStep(
        "analytics",
        "Does sentiment lead price?",
        (
            "Daily sentiment joined to daily returns: correlations by horizon with their "
            "intervals, lead/lag bars, an event study and a long/short backtest.",
            "Every figure carries its sample size, and says when it is too small to trust.",
        ),
    ),
    TourStep(
        "model",
        "How good is the model?",
        (
            "Live accuracy on the news this stack ingested: accuracy, macro-F1, the confusion "
            "matrix.",
            "The model card: every tier on every evaluation set, calibration, throughput, "
            "and the known failure modes.",
        ),
    ),
    TourStep(
        "external-apis",
        "Adapters and quotas",
        (
            "One adapter per provider behind one interface: adding a source is one class.",
            "Quotas are counted in DynamoDB per service: warning at 50 %, critical at 80 %, "
            "10 % held back for priority work.",
            "The gauges show the calls of the current period and when it resets.",
        ),
    ),
    TourStep(
        "circuits",
        "Circuit breakers",
        (
            "Closed, then open after 5 failures, then half-open after a 60 s timeout, where "
            "one trial call decides.",
            "One breaker per provider, its state kept in the table so every function "
            "instance sees the same one.",
        ),
    ),
    TourStep(
        "traffic",
        "Traffic on demand",
        (
            "The scenarios of the traffic CLI, run from the page: basic flow, price-sentiment, "
            "cache warm-up, load, rate limit.",
            "Watch the latency fall as the caches warm, and 429s when a burst passes the "
            "rate limit.",
        ),
    ),
    TourStep(
        "chaos",
        "Breaking things on purpose",
        (
            "Switch a fault on (Tiingo or Finnhub 500s, slow upstreams, SendGrid 429s, "
            "free-plan keys) and run an ingestion at once.",
            "The Tiingo circuit opens after 5 failures; sentiment degrades to the remaining "
            "sources and says so; after 60 s the circuit tries again and heals.",
        ),
    ),
    TourStep(
        "caching",
        "Caching, layer by layer",
        (
            "Circuit state, quota counters, configuration lists, sentiment and GSI metrics, "
            "each with its TTL and pattern (write-through, batched, invalidate on change, "
            "read-through).",
            "Hits, misses and the DynamoDB reads each layer saved, measured live.",
        ),
    ),
    TourStep(
        "observability",
        "Logs, metrics, traces",
        (
            "Structured JSON logs with correlation ids; e-mails masked and secrets dropped "
            "before logging.",
            "Metrics of the pipeline, the API and the caches, one-minute snapshots.",
            "A request's timing breakdown: session read, rate limit, handler, each DynamoDB call.",
        ),
    ),
    TourStep(
        "health",
        "Health check",
        ("`GET /health` checks every dependency; the header tile follows it every 2 s.",),
    ),
    TourStep(
        "testing",
        "Testing strategy",
        (
            "A pyramid: unit tests with moto and in-memory fakes, integration against "
            "DynamoDB Local, end-to-end over HTTP, and the browser suite driving this page.",
            "The results shown are the latest JUnit reports, with the benchmark run.",
        ),
    ),
    TourStep(
        "infrastructure",
        "Infrastructure and cost",
        (
            "Terraform modules for the table, IAM, secrets, SNS, Cognito, hosting and "
            "schedules, one least-privilege role per function.",
            "Environment parity read from each environment's tfvars: backups and "
            "point-in-time recovery outside dev.",
            "On-demand DynamoDB and small Lambdas keep dev at about $2.60 a month; the "
            "cost model scales with users and tickers.",
        ),
    ),
)

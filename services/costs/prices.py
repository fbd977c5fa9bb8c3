"""AWS public on-demand prices for us-east-1, and the always-free tier, as named constants.

Sources, by page name, as published in January 2025 (the prices in force since DynamoDB's
November 2024 on-demand price cut): "AWS Lambda Pricing" (x86, requests and duration),
"Amazon DynamoDB Pricing for On-Demand Capacity", "Amazon SNS Pricing", "Amazon EventBridge
Pricing", "AWS Secrets Manager Pricing", "Amazon CloudWatch Pricing" (logs, custom metrics),
"AWS X-Ray Pricing", and "AWS Free Tier" (the always-free offers, not the 12-month ones).
Prices change: update the constants and the date above together.
"""

from __future__ import annotations

from dataclasses import dataclass

# AWS Lambda Pricing (x86_64): per request and per GB-second of duration.
LAMBDA_PER_MILLION_REQUESTS = 0.20
LAMBDA_PER_GB_SECOND = 0.0000166667
# Amazon DynamoDB Pricing for On-Demand Capacity (standard table class).
DYNAMODB_PER_MILLION_WRITE_UNITS = 0.625
DYNAMODB_PER_MILLION_READ_UNITS = 0.125
DYNAMODB_STORAGE_PER_GB_MONTH = 0.25
DYNAMODB_PITR_PER_GB_MONTH = 0.20
DYNAMODB_BACKUP_PER_GB_MONTH = 0.10
# Amazon SNS Pricing: standard topic publishes; deliveries to Lambda are not charged.
SNS_PER_MILLION_PUBLISHES = 0.50
SNS_PER_MILLION_LAMBDA_DELIVERIES = 0.0
# Amazon EventBridge Pricing: scheduled rules on the default bus are not charged.
EVENTBRIDGE_PER_MILLION_SCHEDULED_EVENTS = 0.0
# AWS Secrets Manager Pricing.
SECRETS_MANAGER_PER_SECRET_MONTH = 0.40
SECRETS_MANAGER_PER_10K_API_CALLS = 0.05
# Amazon CloudWatch Pricing: logs (standard class) and custom metrics (first 10,000 tier).
CLOUDWATCH_LOGS_PER_GB_INGESTED = 0.50
CLOUDWATCH_LOGS_PER_GB_MONTH_STORED = 0.03
CLOUDWATCH_PER_CUSTOM_METRIC_MONTH = 0.30
# AWS X-Ray Pricing: traces recorded.
XRAY_PER_MILLION_TRACES = 5.00

# AWS Free Tier, always-free offers (per account and month).
FREE_LAMBDA_REQUESTS = 1_000_000
FREE_LAMBDA_GB_SECONDS = 400_000
FREE_DYNAMODB_STORAGE_GB = 25
FREE_SNS_PUBLISHES = 1_000_000
FREE_CLOUDWATCH_LOGS_GB = 5
FREE_CLOUDWATCH_METRICS = 10
FREE_XRAY_TRACES = 100_000


@dataclass(frozen=True)
class Prices:
    """Unit prices in USD; the default is us-east-1 as above."""

    lambda_per_million_requests: float = LAMBDA_PER_MILLION_REQUESTS
    lambda_per_gb_second: float = LAMBDA_PER_GB_SECOND
    dynamodb_per_million_write_units: float = DYNAMODB_PER_MILLION_WRITE_UNITS
    dynamodb_per_million_read_units: float = DYNAMODB_PER_MILLION_READ_UNITS
    dynamodb_storage_per_gb_month: float = DYNAMODB_STORAGE_PER_GB_MONTH
    dynamodb_pitr_per_gb_month: float = DYNAMODB_PITR_PER_GB_MONTH
    dynamodb_backup_per_gb_month: float = DYNAMODB_BACKUP_PER_GB_MONTH
    sns_per_million_publishes: float = SNS_PER_MILLION_PUBLISHES
    sns_per_million_lambda_deliveries: float = SNS_PER_MILLION_LAMBDA_DELIVERIES
    eventbridge_per_million_scheduled_events: float = EVENTBRIDGE_PER_MILLION_SCHEDULED_EVENTS
    secrets_manager_per_secret_month: float = SECRETS_MANAGER_PER_SECRET_MONTH
    secrets_manager_per_10k_api_calls: float = SECRETS_MANAGER_PER_10K_API_CALLS
    cloudwatch_logs_per_gb_ingested: float = CLOUDWATCH_LOGS_PER_GB_INGESTED
    cloudwatch_logs_per_gb_month_stored: float = CLOUDWATCH_LOGS_PER_GB_MONTH_STORED
    cloudwatch_per_custom_metric_month: float = CLOUDWATCH_PER_CUSTOM_METRIC_MONTH
    xray_per_million_traces: float = XRAY_PER_MILLION_TRACES


@dataclass(frozen=True)
class FreeTier:
    """Monthly always-free allowances; `FreeTier.none()` for an account without them."""

    lambda_requests: float = FREE_LAMBDA_REQUESTS
    lambda_gb_seconds: float = FREE_LAMBDA_GB_SECONDS
    dynamodb_storage_gb: float = FREE_DYNAMODB_STORAGE_GB
    sns_publishes: float = FREE_SNS_PUBLISHES
    cloudwatch_logs_gb: float = FREE_CLOUDWATCH_LOGS_GB
    cloudwatch_metrics: float = FREE_CLOUDWATCH_METRICS
    xray_traces: float = FREE_XRAY_TRACES

    @classmethod
    def none(cls) -> FreeTier:
        return cls(0, 0, 0, 0, 0, 0, 0)


US_EAST_1 = Prices()
ALWAYS_FREE = FreeTier()

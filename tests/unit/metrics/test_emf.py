"""The metrics function's EMF document: valid by the rules of the EMF specification (checked
here, not taken from the library that writes it), in CloudWatch's own units, with the same
namespace, dimensions, metric names and units every run; a figure without data is left out."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

import botocore.session
import pytest

from services.metrics.emf import NAMESPACE, emf_document

pytestmark = pytest.mark.unit

# Recent, so the timestamp is one CloudWatch accepts (at most 14 days old).
AT = datetime.now(UTC).replace(microsecond=0)

FULL_SNAPSHOT: dict[str, Any] = {
    "pipeline": {"pending": 2, "analyzed": 8},
    "ingestion": {"articles_per_minute": 1.5},
    "sentiment_distribution": {"positive": 3, "neutral": 4, "negative": 1},
    "api": {
        "requests": 40,
        "errors_5xx": 1,
        "rate_limited": 2,
        "latency_ms": {"p50": 12.5, "p95": 40.0, "p99": 80.0},
    },
    "caches": {"hit_rate": 0.75},
    "emails": {"sent": 1, "queued": 0},
}

EXPECTED_UNITS = {
    "ArticlesPending": "Count",
    "ArticlesAnalyzed": "Count",
    "ArticlesPerMinute": "Count",
    "SentimentPositive": "Count",
    "SentimentNeutral": "Count",
    "SentimentNegative": "Count",
    "ApiRequests": "Count",
    "ApiErrors5xx": "Count",
    "ApiRateLimited": "Count",
    "ApiLatencyP50": "Milliseconds",
    "ApiLatencyP95": "Milliseconds",
    "ApiLatencyP99": "Milliseconds",
    "CacheHitRate": "None",
    "EmailsSent": "Count",
    "EmailsQueued": "Count",
}


@cache
def cloudwatch_units() -> frozenset[str]:
    """The units CloudWatch accepts, from its API model as botocore ships it."""
    model = botocore.session.get_session().get_service_model("cloudwatch")
    return frozenset(model.shape_for("StandardUnit").enum)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def emf_violations(document: dict[str, Any]) -> list[str]:
    """What makes `document` invalid EMF (empty when it is valid)."""
    root = document.get("_aws")
    if not isinstance(root, dict) or not isinstance(root.get("Timestamp"), int):
        return ["_aws.Timestamp must be epoch milliseconds"]
    directives = root.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return ["_aws.CloudWatchMetrics must list at least one directive"]
    return [problem for directive in directives for problem in _directive(directive, document)]


def _directive(directive: dict[str, Any], document: dict[str, Any]) -> list[str]:
    problems = []
    if not 1 <= len(directive.get("Namespace") or "") <= 1024:
        problems.append("a directive needs a namespace of 1 to 1024 characters")
    for dimension_set in directive["Dimensions"]:
        if len(dimension_set) > 30:
            problems.append(f"more than 30 dimensions in {dimension_set}")
        problems += [
            f"dimension {key} has no string value at the root"
            for key in dimension_set
            if not isinstance(document.get(key), str)
        ]
    definitions = directive["Metrics"]
    if len(definitions) > 100:
        problems.append("more than 100 metrics in one directive")
    for definition in definitions:
        problems += _metric(definition, document)
    return problems


def _metric(definition: dict[str, Any], document: dict[str, Any]) -> list[str]:
    name = definition["Name"]
    value = document.get(name)
    values = value if isinstance(value, list) else [value]
    problems = []
    if not values or len(values) > 100 or not all(_is_number(v) for v in values):
        problems.append(f"{name} is not a number or a list of up to 100 numbers")
    if "Unit" in definition and definition["Unit"] not in cloudwatch_units():
        problems.append(f"{name} has the unit {definition['Unit']!r}, unknown to CloudWatch")
    if definition.get("StorageResolution", 60) not in (1, 60):
        problems.append(f"{name} has a storage resolution other than 1 or 60")
    return problems


def test_a_full_snapshot_is_valid_emf_with_every_metric_in_its_unit() -> None:
    document = emf_document(FULL_SNAPSHOT, AT, service="svc", environment="local")

    assert emf_violations(document) == []
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == NAMESPACE == "SentimentDeepDive"
    assert [set(dimensions) for dimensions in directive["Dimensions"]] == [
        {"service", "environment"}
    ]
    assert (document["service"], document["environment"]) == ("svc", "local")
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == EXPECTED_UNITS
    assert document["_aws"]["Timestamp"] == int(AT.timestamp() * 1000)
    assert document["ArticlesPending"] == [2.0]
    assert document["ApiLatencyP99"] == [80.0]
    # What the function prints: one line of JSON
    assert json.loads(json.dumps(document, separators=(",", ":"))) == document


def test_a_figure_without_data_is_left_out_rather_than_sent_as_zero() -> None:
    snapshot = {
        **FULL_SNAPSHOT,
        "api": {"requests": 0, "errors_5xx": 0, "rate_limited": 0, "latency_ms": {"p50": None}},
        "caches": {"hit_rate": None},
    }

    document = emf_document(snapshot, AT, service="svc", environment="local")

    assert emf_violations(document) == []
    names = {m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert names == set(EXPECTED_UNITS) - {
        "ApiLatencyP50",
        "ApiLatencyP95",
        "ApiLatencyP99",
        "CacheHitRate",
    }
    assert "CacheHitRate" not in document
    assert document["ApiRequests"] == [0.0]


def test_each_document_carries_its_own_run_only() -> None:
    first = emf_document(FULL_SNAPSHOT, AT, service="svc", environment="local")
    second = emf_document(FULL_SNAPSHOT, AT, service="svc", environment="dev")

    assert first["ArticlesPending"] == second["ArticlesPending"] == [2.0]
    assert (first["environment"], second["environment"]) == ("local", "dev")


def test_the_checks_catch_what_cloudwatch_would_reject() -> None:
    document = emf_document(FULL_SNAPSHOT, AT, service="svc", environment="local")
    document["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = "Count/Minute"
    document["ArticlesAnalyzed"] = "eight"
    del document["environment"]

    assert len(emf_violations(document)) == 3

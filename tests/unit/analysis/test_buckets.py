"""The bucket arithmetic on its own: which hour and day a score falls in, what scored articles
and provider figures add to each bucket, and the bucket once that is added."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

import services.analysis.buckets as buckets_module
from services.analysis.buckets import (
    Bucket,
    Contribution,
    Resolution,
    Sample,
    ScoredArticle,
    add_to_bucket,
    article_bucket_ids,
    bucket_id_of,
    bucket_label,
    bucket_start,
    contributions,
    parse_bucket_label,
    relevance_of,
    sample_contributions,
    sources_of,
)
from services.store.models import Article

pytestmark = pytest.mark.unit

PUBLISHED = datetime(2026, 11, 24, 14, 37, 12, 500, tzinfo=UTC)


@dataclass(frozen=True)
class Headline:
    """A story with only what bucketing reads, to show no stored article is needed."""

    dedup_key: str
    published_at: datetime
    tickers: tuple[str, ...]
    sources: dict[str, str] = field(default_factory=lambda: {"finnhub": "1"})


def scored(
    story: Headline, score: float, relevance: dict[str, float] | None = None
) -> ScoredArticle:
    return ScoredArticle(story, score, "label", 0.9, "m1", relevance or {})


def test_a_moment_falls_in_the_utc_hour_and_day_it_belongs_to() -> None:
    # 01:30 in UTC+3 is 22:30 of the day before in UTC
    moment = datetime(2026, 11, 25, 1, 30, tzinfo=timezone(timedelta(hours=3)))

    assert bucket_start(moment, "H") == datetime(2026, 11, 24, 22, tzinfo=UTC)
    assert bucket_start(moment, "D") == datetime(2026, 11, 24, tzinfo=UTC)


@pytest.mark.parametrize(("resolution", "label"), [("H", "2026-11-24T14:00Z"), ("D", "2026-11-24")])
def test_labels_name_a_start_and_read_back_as_it(resolution: Resolution, label: str) -> None:
    start = bucket_start(PUBLISHED, resolution)

    assert bucket_label(start, resolution) == label
    assert parse_bucket_label(label, resolution) == start


def test_an_article_feeds_each_ticker_per_source_and_resolution() -> None:
    story = Headline("k", PUBLISHED, ("AAPL", "MSFT"), {"tiingo": "1", "finnhub": "2"})

    assert sources_of(story) == ["our_model", "tiingo"]
    assert article_bucket_ids(story) == [
        ("AAPL", "our_model", "H", "2026-11-24T14:00Z"),
        ("AAPL", "our_model", "D", "2026-11-24"),
        ("AAPL", "tiingo", "H", "2026-11-24T14:00Z"),
        ("AAPL", "tiingo", "D", "2026-11-24"),
        ("MSFT", "our_model", "H", "2026-11-24T14:00Z"),
        ("MSFT", "our_model", "D", "2026-11-24"),
        ("MSFT", "tiingo", "H", "2026-11-24T14:00Z"),
        ("MSFT", "tiingo", "D", "2026-11-24"),
    ]


def test_only_tiingos_news_feeds_the_tiingo_series() -> None:
    assert sources_of(Headline("k", PUBLISHED, ("AAPL",))) == ["our_model"]


def test_a_stored_article_is_a_story() -> None:
    article = Article(
        dedup_key="k", title="t", description="", url="https://n/k", published_at=PUBLISHED,
        tickers=("NVDA",), sources={"tiingo": "1"}, ingested_at=PUBLISHED,
    )  # fmt: skip

    assert article_bucket_ids(article)[0] == ("NVDA", "our_model", "H", "2026-11-24T14:00Z")


def test_relevance_is_clamped_and_missing_relevance_counts_fully() -> None:
    assert relevance_of(None, "AAPL") == 1.0
    assert relevance_of({}, "AAPL") == 1.0
    assert relevance_of({"MSFT": 0.2}, "AAPL") == 1.0
    assert relevance_of({"AAPL": 0.3}, "AAPL") == 0.3
    assert relevance_of({"AAPL": -2.0}, "AAPL") == 0.0
    assert relevance_of({"AAPL": 4.0}, "AAPL") == 1.0


def test_contributions_sum_scores_per_bucket_weighted_by_relevance_to_its_ticker() -> None:
    first = Headline("a", PUBLISHED, ("AAPL", "MSFT"))
    second = Headline("b", PUBLISHED + timedelta(hours=1), ("MSFT",))

    found = contributions(
        [scored(first, 0.8, {"AAPL": 1.0, "MSFT": 0.1}), scored(second, -0.4, {"MSFT": 0.5})]
    )

    day = found[("MSFT", "our_model", "D", "2026-11-24")]
    assert (day.count, day.minimum, day.maximum) == (2, -0.4, 0.8)
    assert day.total == pytest.approx(0.4)
    assert day.weight == pytest.approx(0.6)
    assert day.weighted_total == pytest.approx(0.08 - 0.2)
    # Each hour holds one article
    assert found[("MSFT", "our_model", "H", "2026-11-24T14:00Z")].count == 1
    assert found[("MSFT", "our_model", "H", "2026-11-24T15:00Z")].count == 1
    apple = found[("AAPL", "our_model", "D", "2026-11-24")]
    assert (apple.count, apple.weight, apple.weighted_total) == (1, 1.0, 0.8)


def test_provider_samples_count_fully_in_the_hour_and_day_they_were_taken() -> None:
    found = sample_contributions(
        [Sample("AAPL", "finnhub", 0.4), Sample("AAPL", "finnhub", -0.2)], PUBLISHED
    )

    assert set(found) == {
        ("AAPL", "finnhub", "H", "2026-11-24T14:00Z"),
        ("AAPL", "finnhub", "D", "2026-11-24"),
    }
    hour = found[("AAPL", "finnhub", "H", "2026-11-24T14:00Z")]
    assert (hour.count, hour.minimum, hour.maximum, hour.weight) == (2, -0.2, 0.4, 2.0)
    assert hour.total == pytest.approx(0.2) and hour.weighted_total == pytest.approx(0.2)


def test_a_first_contribution_makes_the_bucket() -> None:
    contribution = Contribution()
    contribution.add(0.5, 0.2)
    contribution.add(-0.1)

    bucket = add_to_bucket(("AAPL", "our_model", "H", "2026-11-24T14:00Z"), None, contribution)

    assert bucket == Bucket(
        ticker="AAPL", source="our_model", resolution="H",
        start=datetime(2026, 11, 24, 14, tzinfo=UTC), count=2, total=pytest.approx(0.4),
        minimum=-0.1, maximum=0.5, weight=pytest.approx(1.2),
        weighted_total=pytest.approx(0.0),
    )  # fmt: skip
    assert bucket_id_of(bucket) == ("AAPL", "our_model", "H", "2026-11-24T14:00Z")


def test_a_contribution_merges_with_the_stored_bucket() -> None:
    stored = Bucket("AAPL", "our_model", "D", datetime(2026, 11, 24, tzinfo=UTC), 2, 0.6,
                    0.1, 0.5, weight=1.5, weighted_total=0.7)  # fmt: skip
    contribution = Contribution()
    contribution.add(0.9, 0.5)
    contribution.add(-0.3, 1.0)

    merged = add_to_bucket(bucket_id_of(stored), stored, contribution)

    assert (merged.count, merged.minimum, merged.maximum) == (4, -0.3, 0.9)
    assert merged.total == pytest.approx(1.2)
    assert merged.weight == pytest.approx(3.0)
    assert merged.weighted_total == pytest.approx(0.7 + 0.45 - 0.3)
    assert merged.start == stored.start


def test_a_bucket_from_before_relevance_gains_its_weights_from_count_and_sum() -> None:
    # 3 articles, sum 0.6, no weighted sums recorded: each counted with relevance 1
    old = Bucket("MSFT", "our_model", "H", datetime(2026, 11, 24, 14, tzinfo=UTC), 3, 0.6,
                 -0.2, 0.5)  # fmt: skip
    assert (old.relevance_weight, old.relevance_sum) == (3.0, 0.6)
    assert old.weighted_average == pytest.approx(0.2)
    contribution = Contribution()
    contribution.add(-1.0, 0.1)

    merged = add_to_bucket(bucket_id_of(old), old, contribution)

    assert merged.weight == pytest.approx(3.1)
    assert merged.weighted_total == pytest.approx(0.5)
    assert merged.weighted_average == pytest.approx(0.5 / 3.1)
    assert merged.average == pytest.approx(-0.4 / 4)


def test_an_empty_bucket_averages_zero() -> None:
    empty = Bucket("AAPL", "our_model", "D", PUBLISHED, 0, 0.0, 1.0, -1.0, 0.0, 0.0)

    assert empty.average == 0.0 and empty.weighted_average == 0.0


def test_the_arithmetic_needs_neither_boto3_nor_the_store() -> None:
    nodes = list(ast.walk(ast.parse(Path(buckets_module.__file__).read_text())))
    imported = {node.module or "" for node in nodes if isinstance(node, ast.ImportFrom)}
    imported |= {a.name for node in nodes if isinstance(node, ast.Import) for a in node.names}

    assert not {m for m in imported if m.split(".")[0] in {"boto3", "botocore"}}
    assert not {m for m in imported if m.startswith("services.")}

"""The analysis function: SNS messages of article keys in, scores and buckets recorded."""

from __future__ import annotations

from typing import Any

from services.analysis.batches import AnalysisDependencies, analyze_batches
from services.composition.analysis import deployed_analysis
from services.messaging.publisher import article_key_batches


def handler(
    event: dict[str, Any], context: Any, deps: AnalysisDependencies | None = None
) -> dict[str, Any]:
    return analyze_batches(article_key_batches(event), deps or deployed_analysis())

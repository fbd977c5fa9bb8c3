"""Scoring stored articles and recording the results (the analysis function's use case)."""

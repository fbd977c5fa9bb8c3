"""Fetching news from the providers into the table (the ingestion function's use case)."""

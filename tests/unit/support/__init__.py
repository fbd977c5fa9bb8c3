"""Builders the unit suites share: the real API over the in-memory store."""

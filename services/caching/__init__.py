"""Read-through caches with their own counters (what `/api/v2/ops/caches` reports)."""

"""Operational use cases: health, and (later) circuits, quotas, caches, chaos."""

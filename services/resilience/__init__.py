"""Protection around calls to external services: circuit breakers, quotas, caches, limits."""

"""The one place that wires: each function's collaborators built from settings.

One module per function (`ingestion`, `analysis`, `notification`, `metrics`, `api`), each with
a builder that the Lambda handler calls on its first invocation and the embedded stack calls
with its own publisher, clock and table; `providers` builds the external services' clients and
`resilience` the circuit breakers and quotas. Nothing here runs at import time, and a function
imports only its own builder (a cold start pays for nothing else).
"""

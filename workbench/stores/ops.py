"""Cache hit rate and circuit health, from the operator routes `GET /api/v2/ops/caches` and
`GET /api/v2/ops/circuits`.

Each tile says why it has no figure instead of guessing one: no operator token on this
machine, the token refused, or the route not served (404) by this API yet. A route that
appears later is picked up by the next refresh, with no restart.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import param

from workbench.client import ApiClient, ApiResult

STATUSES = ("waiting", "live", "missing", "unauthorized", "no_token", "error")


class OpsStore(param.Parameterized):
    caches_status: str = param.Selector(  # type: ignore[assignment]
        default="waiting", objects=list(STATUSES)
    )
    hit_rate = param.Number(default=None, allow_None=True, doc="hits / (hits + misses), 0-1")
    cache_hits = param.Integer(default=None, allow_None=True)
    cache_misses = param.Integer(default=None, allow_None=True)
    caches_note = param.String(default="", doc="what the tile's tooltip explains")
    cache_layers = param.Dict(default={}, doc="layer -> ttl_s, hits, misses, ... as reported")
    cache_totals = param.Dict(default={}, doc="totals over every layer, as reported")
    cache_environments = param.List(
        default=[], doc="one row per execution environment: instance, pid, hit_rate, ..."
    )

    circuits_status: str = param.Selector(  # type: ignore[assignment]
        default="waiting", objects=list(STATUSES)
    )
    circuits_healthy = param.Integer(default=None, allow_None=True)
    circuits_total = param.Integer(default=None, allow_None=True)
    circuit_states = param.Dict(default={}, doc="service -> closed | open | half_open")
    circuits_note = param.String(default="")
    circuits = param.Dict(default={}, doc="service -> state, failures, threshold, retry_at, ...")
    transitions = param.List(default=[], doc="state changes, newest first, as reported")

    def __init__(
        self, client: ApiClient, operator_token: Callable[[], str | None], **params: Any
    ) -> None:
        super().__init__(**params)
        self.client = client
        # A callable, not the token: the file may appear after the page opens, and the secret
        # never becomes a param (params are shown, logged and serialised by Panel).
        self._operator_token = operator_token

    async def refresh(self) -> None:
        token = self._operator_token()
        if token is None:
            note = "n/a: no operator token here (the local stack writes .local/operator-token)"
            self.param.update(
                caches_status="no_token", caches_note=note,
                circuits_status="no_token", circuits_note=note,
            )  # fmt: skip
            return
        caches, circuits = await asyncio.gather(
            self.client.ops_caches(token), self.client.ops_circuits(token)
        )
        self._read_caches(caches)
        self._read_circuits(circuits)

    def _read_caches(self, result: ApiResult) -> None:
        status, note = _unavailable(result)
        if status is None:
            counted = cache_counts(result.body)
            if counted is None:
                status, note = "error", f"{result.request}: the answer has no hits and misses"
            else:
                hits, misses, lines = counted
                reads = hits + misses
                layers = result.body.get("layers")
                totals = result.body.get("totals")
                environments = result.body.get("environments")
                self.param.update(
                    cache_environments=[e for e in environments if isinstance(e, dict)]
                    if isinstance(environments, list)
                    else [],
                    cache_totals=dict(totals) if isinstance(totals, dict) else {},
                    caches_status="live",
                    cache_layers=dict(layers) if isinstance(layers, dict) else {},
                    cache_hits=hits,
                    cache_misses=misses,
                    hit_rate=hits / reads if reads else None,
                    caches_note="\n".join(
                        [
                            f"{result.request}: {hits} hits, {misses} misses"
                            + _across(environments),
                            *lines,
                        ]
                    ),
                )
                return
        self.param.update(caches_status=status, hit_rate=None, caches_note=note)

    def _read_circuits(self, result: ApiResult) -> None:
        status, note = _unavailable(result)
        circuits = result.body.get("circuits") if isinstance(result.body, dict) else None
        if status is None and not isinstance(circuits, dict):
            status, note = "error", f"{result.request}: the answer lists no circuits"
        if status is not None or not isinstance(circuits, dict):
            self.param.update(circuits_status=status or "error", circuits_note=note)
            return
        states = {
            str(name): str(c.get("state", "unknown")) if isinstance(c, dict) else "unknown"
            for name, c in sorted(circuits.items())
        }
        lines = [f"{result.request}:"]
        for name, circuit in sorted(circuits.items()):
            detail = circuit if isinstance(circuit, dict) else {}
            failures = detail.get("failures", "?")
            threshold = detail.get("threshold", "?")
            lines.append(f"{name}: {states[name]} ({failures}/{threshold} failures)")
        transitions = result.body.get("transitions")
        self.param.update(
            circuits_status="live",
            circuits={str(k): dict(v) for k, v in circuits.items() if isinstance(v, dict)},
            transitions=list(transitions) if isinstance(transitions, list) else [],
            circuit_states=states,
            circuits_healthy=sum(1 for s in states.values() if s == "closed"),
            circuits_total=len(states),
            circuits_note="\n".join(lines),
        )


def _unavailable(result: ApiResult) -> tuple[str | None, str]:
    """Why a result gives no figure (status, tooltip), or (None, "") when it does."""
    if result.ok:
        return None, ""
    if result.error is not None:
        return "error", f"n/a: {result.request} failed: {result.error}"
    if result.status_code == 404:
        return "missing", (
            f"n/a: {result.request} answered 404, so this API does not serve it yet; "
            "the tile goes live as soon as the route exists"
        )
    if result.status_code in (401, 403):
        return "unauthorized", f"n/a: {result.request} refused the operator token"
    problem = result.problem
    message = problem.message if problem else ""
    return "error", f"n/a: {result.request} answered {result.status_code} {message}".strip()


def cache_counts(body: Any) -> tuple[int, int, list[str]] | None:
    """Hits and misses over every cache layer, and one tooltip line per layer."""
    if not isinstance(body, dict):
        return None
    layers = body.get("layers")
    if not isinstance(layers, dict):
        layers = {}
    lines = []
    hits = misses = 0
    for name, layer in sorted(layers.items()):
        if not isinstance(layer, dict):
            continue
        layer_hits, layer_misses = _count(layer.get("hits")), _count(layer.get("misses"))
        if layer_hits is None or layer_misses is None:
            continue
        hits, misses = hits + layer_hits, misses + layer_misses
        reads = layer_hits + layer_misses
        rate = f"{layer_hits / reads:.0%}" if reads else "no reads"
        lines.append(f"{name}: {rate} ({layer_hits}/{reads})")
    totals = body.get("totals")
    if isinstance(totals, dict):
        total_hits, total_misses = _count(totals.get("hits")), _count(totals.get("misses"))
        if total_hits is not None and total_misses is not None:
            return total_hits, total_misses, lines
    return (hits, misses, lines) if lines else None


def _across(environments: Any) -> str:
    """How many execution environments the figures add up (said only when the API lists them)."""
    if not isinstance(environments, list):
        return ""
    n = len(environments)
    return f" across {n} environment{'s' if n != 1 else ''}"


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

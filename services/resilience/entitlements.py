"""Which provider endpoints this deployment may call: the plan's, less what a provider refused.

Two sources of "not entitled". The configured plan (`services/adapters/plans.py`): a premium
endpoint of a free plan is never called at all. And the provider's own answer: a key whose
plan turns out smaller than configured is answered "not in your plan" once
(`ProviderNotEntitledError`); from then on this process stops calling that endpoint and
records the refusal in the table, where the other instances read it (at most `refresh`
later) and stop too. Neither ever counts as a circuit failure: the provider is healthy, and
its other endpoints keep working.

A refusal is forgotten when its item expires (a day) or is deleted (`forget`, when the plan
is known to be back): each instance's copy follows the table at its next read, so every
instance calls the endpoint again within `refresh`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta

from services.adapters.errors import ProviderNotEntitledError
from services.adapters.plans import Endpoint, ProviderPlan
from services.clock import Clock
from services.store.entitlements import EntitlementStore, Refusal

LOG = logging.getLogger(__name__)


class Entitlements:
    def __init__(
        self,
        plans: Mapping[str, ProviderPlan],
        store: EntitlementStore,
        clock: Clock,
        *,
        refresh: timedelta = timedelta(seconds=60),
    ) -> None:
        self.plans = dict(plans)
        self._store = store
        self._clock = clock
        self._refresh = refresh
        self._known: dict[tuple[str, str], Refusal] = {}
        # Recorded here but not (yet) in the table: kept across reads, or this instance would
        # call the refused endpoint again after a failed write.
        self._unsaved: dict[tuple[str, str], Refusal] = {}
        self._read_at: datetime | None = None
        self._lock = threading.Lock()

    def check(self, provider: str, endpoint: Endpoint) -> None:
        """Raise `ProviderNotEntitledError` (before any request) if the endpoint is refused."""
        refusal = self.refusal(provider, endpoint)
        if refusal is not None:
            raise ProviderNotEntitledError(
                provider,
                f"{endpoint} is not in the key's plan: {refusal.reason}",
                None,
                endpoint=endpoint,
                reason=refusal.reason,
            )

    def refusal(self, provider: str, endpoint: Endpoint) -> Refusal | None:
        plan = self.plans.get(provider)
        if plan is not None and not plan.allows(endpoint):
            reason = f"{endpoint} is a premium endpoint; {provider} runs on the free plan"
            return Refusal(provider, endpoint, reason, self._clock(), by="plan")
        return self._observed().get((provider, endpoint))

    def record(self, error: ProviderNotEntitledError) -> None:
        """The provider said so: stop here at once, and tell the other instances."""
        refusal = Refusal(error.provider, error.endpoint, error.reason, self._clock())
        key = (refusal.provider, refusal.endpoint)
        with self._lock:
            self._known[key] = self._unsaved[key] = refusal
        try:
            self._store.record(refusal)
        except Exception as failure:
            # This process stops anyway; the others learn it from their own first refusal.
            LOG.warning("could not record a refused endpoint: %s", type(failure).__name__)
            return
        with self._lock:
            self._unsaved.pop(key, None)

    def forget(self, provider: str, endpoint: str) -> None:
        """The endpoint may be called again: here at once, in the other instances at their
        next read of the table (a store failure is raised: the refusal would stay a day)."""
        with self._lock:
            self._known.pop((provider, endpoint), None)
            self._unsaved.pop((provider, endpoint), None)
        self._store.forget(provider, endpoint)

    def refusals(self) -> list[Refusal]:
        """Every endpoint not called, by plan or by the provider's word."""
        planned = [
            r
            for provider, plan in self.plans.items()
            for endpoint in plan.premium_refused
            if (r := self.refusal(provider, endpoint)) is not None
        ]
        observed = [
            r
            for key, r in self._observed().items()
            if key not in {(p.provider, p.endpoint) for p in planned}
        ]
        return sorted([*planned, *observed], key=lambda r: (r.provider, r.endpoint))

    def _observed(self) -> dict[tuple[str, str], Refusal]:
        now = self._clock()
        with self._lock:
            if self._read_at is None or now - self._read_at >= self._refresh:
                self._read_at = now
                try:
                    stored = self._store.refusals(now)
                except Exception as failure:
                    # Keep the copy: an unreadable table is no reason to call refused endpoints.
                    LOG.warning("could not read refused endpoints: %s", type(failure).__name__)
                else:
                    # The table's word replaces the copy, so expired and forgotten refusals go.
                    self._known = {
                        **self._unsaved,
                        **{(r.provider, r.endpoint): r for r in stored},
                    }
            return dict(self._known)

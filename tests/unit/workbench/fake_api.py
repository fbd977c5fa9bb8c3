"""An in-memory stand-in for the dashboard API and the two emulators the workbench reads.

It answers through `httpx.MockTransport`, so the real `ApiClient` (paths, bearer headers,
error envelope, timing) runs unchanged in the workbench's unit tests. Only the behaviour the
workbench depends on is modelled: the limits, the error envelope with its field, X-Cache,
sign-in with conversion, and the ops routes being present or not.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from workbench.client import ApiClient

API = "http://api.test"
SENDGRID = "http://sendgrid.test"
OIDC = "http://oidc.test"
LISTED = {
    "AAPL": "Apple Inc.",
    "AMAT": "Applied Materials Inc.",
    "MSFT": "Microsoft Corporation",
    "NVDA": "NVIDIA Corporation",
    "AMZN": "Amazon.com Inc.",
    "META": "Meta Platforms Inc.",
    "TSLA": "Tesla Inc.",
}
OPENAPI = {
    "paths": {
        "/api/v2/tickers/{ticker}/ohlc": {
            "get": {
                "parameters": [
                    {"name": "ticker", "schema": {"type": "string"}},
                    {"name": "range", "schema": {"enum": ["1W", "1M", "3M"], "default": "1M"}},
                ]
            }
        },
        "/api/v2/tickers/{ticker}/sentiment/history": {
            "get": {
                "parameters": [
                    {
                        "name": "source",
                        "schema": {"enum": ["aggregated", "tiingo"], "default": "aggregated"},
                    }
                ]
            }
        },
    },
    "components": {
        "schemas": {
            "ConfigurationIn": {
                "properties": {
                    "name": {"description": "1 to 50 characters"},
                    "tickers": {"description": "1 to 5 symbols from the exchange list"},
                }
            }
        }
    },
}


def envelope(status: int, code: str, message: str, details: Any = None) -> httpx.Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return httpx.Response(status, json={"error": error})


@dataclass
class FakeApi:
    ops_routes: bool = False
    operator_token: str = "operator-secret"
    max_anonymous: int = 1
    max_account: int = 2
    max_tickers: int = 5
    health_status: str = "healthy"
    circuit_states: dict[str, str] = field(
        default_factory=lambda: {"tiingo": "closed", "finnhub": "open", "sendgrid": "closed"}
    )
    history_points: int = 3
    sessions: dict[str, str] = field(default_factory=dict)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    states: dict[str, str | None] = field(default_factory=dict)
    bindings: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    sentiment_reads: set[str] = field(default_factory=set)
    cache_hits: int = 0
    cache_misses: int = 0
    requests: list[str] = field(default_factory=list)
    metrics_route: bool = False
    # Per quota id; the ones not named here are unused.
    quota_used: dict[str, int] = field(
        default_factory=lambda: {
            "tiingo:requests_per_hour": 10,
            "tiingo:symbols_per_month": 30,
            "finnhub:requests_per_minute": 50,
        }
    )
    chaos_enabled: dict[str, bool] = field(
        default_factory=lambda: dict.fromkeys(
            ("tiingo_500", "finnhub_500", "slow_upstream", "sendgrid_429", "free_plan_keys"),
            False,
        )
    )
    chaos_durations: dict[str, float | None] = field(default_factory=dict)
    tiingo_failures: int = 0
    ingestion_runs: int = 0
    articles: dict[str, int] = field(default_factory=lambda: {"pending": 2, "analyzed": 5})
    logs: list[dict[str, Any]] = field(default_factory=list)
    traces: list[dict[str, Any]] = field(default_factory=list)
    # The API's execution environments, as `/api/v2/ops/caches` lists them (none: an API
    # that predates them), and the one whose memory the logs and traces come from.
    cache_environments: list[dict[str, Any]] | None = None
    environment: dict[str, Any] | None = None
    # Live accuracy: served by a local stack only; (known, stored) label of each labelled
    # article, newest last. An ingestion run adds three, one of them scored wrong.
    accuracy_route: bool = True
    labelled: list[tuple[str, str]] = field(default_factory=list)
    accuracy_limits: list[int] = field(default_factory=list)
    # The model card as `make model` wrote it; None until it is built.
    model_card: dict[str, Any] | None = None

    def client(self) -> ApiClient:
        return ApiClient(API, transport=httpx.MockTransport(self.handle))

    # --- routing ---------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        self.requests.append(f"{request.method} {url.path}")
        if url.host == "sendgrid.test":
            return httpx.Response(200, json=self.outbox)
        if url.host == "oidc.test":
            return self._authorize(dict(url.params))
        body = json.loads(request.content) if request.content else None
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ") or None
        route = f"{request.method} {url.path}"
        for pattern, handler in self._routes():
            match = re.fullmatch(pattern, route)
            if match:
                result: httpx.Response = handler(
                    bearer=bearer, body=body, params=dict(url.params), **match.groupdict()
                )
                return result
        return envelope(404, "NOT_FOUND", f"no route for {route}")

    def _routes(self) -> list[tuple[str, Any]]:
        return [
            (r"GET /health", self._health),
            (r"GET /api/v2/openapi\.json", lambda **_: httpx.Response(200, json=OPENAPI)),
            (r"POST /api/v2/auth/anonymous", self._anonymous),
            (r"GET /api/v2/auth/me", self._me),
            (r"POST /api/v2/auth/signout", self._signout),
            (r"POST /api/v2/auth/magic-link", self._magic_link),
            (r"POST /api/v2/auth/magic-link/verify", self._verify),
            (r"POST /api/v2/auth/magic-link/preview", self._preview),
            (r"GET /api/v2/auth/oauth/urls", self._oauth_urls),
            (r"POST /api/v2/auth/oauth/callback", self._oauth_callback),
            (r"GET /api/v2/configurations", self._list),
            (r"POST /api/v2/configurations", self._create),
            (r"PATCH /api/v2/configurations/(?P<cid>[^/]+)", self._update),
            (r"DELETE /api/v2/configurations/(?P<cid>[^/]+)", self._delete),
            (r"GET /api/v2/configurations/(?P<cid>[^/]+)/sentiment", self._sentiment),
            (r"GET /api/v2/tickers/search", self._search),
            (r"GET /api/v2/tickers/(?P<ticker>[^/]+)/ohlc", self._ohlc),
            (r"GET /api/v2/tickers/(?P<ticker>[^/]+)/sentiment/history", self._history),
            (r"GET /api/v2/ops/caches", self._caches),
            (r"GET /api/v2/ops/circuits", self._circuits),
            (r"GET /api/v2/ops/quotas", self._quotas),
            (r"GET /api/v2/ops/chaos", self._chaos),
            (r"POST /api/v2/ops/chaos", self._switch_chaos),
            (r"POST /api/v2/ops/ingestion/run", self._run_ingestion),
            (r"GET /api/v2/ops/pipeline", self._pipeline),
            (r"GET /api/v2/ops/table", self._table),
            (r"GET /api/v2/ops/accuracy", self._accuracy),
            (r"GET /api/v2/ops/model", self._model),
            (r"GET /api/v2/ops/metrics", self._metrics),
            (r"POST /api/v2/ops/metrics/run", self._run_metrics),
            (r"GET /api/v2/ops/logs", self._logs),
            (r"GET /api/v2/ops/traces", self._traces),
            (r"GET /api/v2/ops/traces/(?P<cid>[^/]+)", self._trace),
        ]

    # --- identity --------------------------------------------------------------------------

    def _user(self, bearer: str | None) -> dict[str, Any] | None:
        user_id = self.sessions.get(bearer or "")
        return self.users.get(user_id) if user_id else None

    def _issue(self, user_id: str) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        self.sessions[token] = user_id
        user = self.users[user_id]
        return {
            "user_id": user_id,
            "token": token,
            "session_id": f"s-{token[:6]}",
            "auth_type": user["auth_type"],
            "created_at": "2026-01-01T00:00:00Z",
            "session_expires_at": "2026-01-08T00:00:00Z",
        }

    def _health(self, **_: Any) -> httpx.Response:
        return httpx.Response(
            503 if self.health_status == "unhealthy" else 200,
            json={
                "status": self.health_status,
                "version": "0.1.0",
                "environment": "test",
                "checks": {"dynamodb": {"status": "ok", "latency_ms": 1.5}},
            },
        )

    def _anonymous(self, **_: Any) -> httpx.Response:
        user_id = f"u-{len(self.users) + 1}"
        self.users[user_id] = {"auth_type": "anonymous", "email": None, "configs": {}}
        return httpx.Response(201, json=self._issue(user_id))

    def _me(self, bearer: str | None, **_: Any) -> httpx.Response:
        user = self._user(bearer)
        if user is None:
            return envelope(401, "UNAUTHORIZED", "the bearer token is unknown, expired or revoked")
        user_id = self.sessions[bearer or ""]
        return httpx.Response(
            200,
            json={
                "user_id": user_id,
                "auth_type": user["auth_type"],
                "email": user["email"],
                "created_at": "2026-01-01T00:00:00Z",
                "session_id": "s-1",
                "session_expires_at": "2026-01-08T00:00:00Z",
                "limits": {
                    "max_configurations": self._max(user),
                    "max_tickers_per_configuration": self.max_tickers,
                    "alerts": "basic" if user["auth_type"] == "anonymous" else "full",
                    "configurations_used": len(user["configs"]),
                },
            },
        )

    def _max(self, user: dict[str, Any]) -> int:
        return self.max_anonymous if user["auth_type"] == "anonymous" else self.max_account

    def _signout(self, bearer: str | None, **_: Any) -> httpx.Response:
        if self.sessions.pop(bearer or "", None) is None:
            return envelope(401, "UNAUTHORIZED", "the bearer token is unknown")
        return httpx.Response(200, json={"status": "signed_out", "session_id": "s-1"})

    def _magic_link(self, body: Any, **_: Any) -> httpx.Response:
        email = str(body.get("email", "")).strip().lower()
        if "@" not in email:
            return envelope(400, "INVALID_EMAIL", "not an e-mail address", {"field": "email"})
        token = secrets.token_urlsafe(32)
        self.links[token] = email
        link = f"http://workbench.test/app?{urlencode({'magic_token': token})}"
        self.outbox.append(
            {
                "id": f"m{len(self.outbox)}",
                "to": [email],
                "subject": "Your sign-in link",
                "text": f"Open this link to sign in:\n\n{link}\n",
                "received_at": "2026-01-01T00:00:00Z",
            }
        )
        return httpx.Response(202, json={"status": "email_sent", "expires_in_seconds": 900})

    def _sign_in(self, email: str, auth_type: str, bearer: str | None) -> httpx.Response:
        caller = self._user(bearer)
        caller_id = self.sessions.get(bearer or "")
        merged = {
            "mode": "none",
            "from_user_id": None,
            "configurations_moved": 0,
            "configurations_not_moved": 0,
        }
        if caller is not None and caller["auth_type"] == "anonymous":
            caller.update(auth_type=auth_type, email=email)
            self.sessions.pop(bearer or "")
            merged = {**merged, "mode": "upgraded", "from_user_id": caller_id}
            merged["configurations_moved"] = len(caller["configs"])
            user_id = str(caller_id)
        else:
            user_id = next(
                (k for k, u in self.users.items() if u["email"] == email),
                f"u-{len(self.users) + 1}",
            )
            self.users.setdefault(user_id, {"auth_type": auth_type, "email": email, "configs": {}})
        return httpx.Response(200, json={**self._issue(user_id), "merged": merged})

    def _verify(self, body: Any, bearer: str | None, **_: Any) -> httpx.Response:
        token = str(body.get("token", ""))
        if token not in self.links:
            return envelope(400, "INVALID_LINK", "the link is not valid")
        email = self.links.pop(token)
        return self._sign_in(email, "email", bearer)

    def _preview(self, body: Any, **_: Any) -> httpx.Response:
        token = str(body.get("token", ""))
        if token not in self.links:
            return envelope(400, "INVALID_LINK", "the link is not valid")
        local, _, domain = self.links[token].partition("@")
        hint = f"{local[:2]}{'*' * max(0, len(local) - 3)}{local[-1:]}@{domain}"
        return httpx.Response(200, json={"email_hint": hint, "expires_at": "2026-01-01T00:15:00Z"})

    def _oauth_urls(self, bearer: str | None, **_: Any) -> httpx.Response:
        state, binding = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self.states[state] = self.sessions.get(bearer or "")
        self.bindings[state] = binding
        query = urlencode({"state": state, "nonce": "n" * 20, "code_challenge": "c" * 43})
        url = f"{OIDC}/oauth2/authorize?{query}"
        providers = {"google": {"authorize_url": url}}
        return httpx.Response(200, json={"providers": providers, "binding": binding})

    def _authorize(self, params: dict[str, str]) -> httpx.Response:
        code = secrets.token_urlsafe(16)
        self.codes[code] = params.get("login_hint", "reader@example.com")
        location = (
            f"http://workbench.test/app?{urlencode({'code': code, 'state': params['state']})}"
        )
        return httpx.Response(302, headers={"Location": location})

    def _oauth_callback(self, body: Any, bearer: str | None, **_: Any) -> httpx.Response:
        state, code = str(body.get("state")), str(body.get("code"))
        if state not in self.states:
            return envelope(400, "INVALID_STATE", "the sign-in state is not valid; start again")
        started_by, binding = self.states.pop(state), self.bindings.pop(state)
        if started_by != self.sessions.get(bearer or ""):
            return envelope(400, "STATE_MISMATCH", "this sign-in was started by another session")
        if started_by is None and body.get("binding") != binding:
            return envelope(400, "STATE_MISMATCH", "this sign-in was started in another browser")
        return self._sign_in(self.codes.pop(code), "oauth", bearer)

    # --- configurations ------------------------------------------------------------------

    def _list(self, bearer: str | None, **_: Any) -> httpx.Response:
        user = self._user(bearer)
        if user is None:
            return envelope(401, "UNAUTHORIZED", "sign in first")
        return httpx.Response(
            200,
            json={"configurations": list(user["configs"].values()), "max_allowed": self._max(user)},
            headers={"X-Cache": "miss"},
        )

    def _validate(self, name: str, tickers: list[str]) -> httpx.Response | None:
        if not 1 <= len(name) <= 50:
            return envelope(
                400, "INVALID_CONFIGURATION", "name must be 1 to 50 characters", {"field": "name"}
            )
        if not 1 <= len(tickers) <= self.max_tickers:
            message = f"a configuration holds 1 to {self.max_tickers} distinct tickers"
            return envelope(400, "INVALID_CONFIGURATION", message, {"field": "tickers"})
        unknown = [t for t in tickers if t not in LISTED]
        if unknown:
            message = f"unknown ticker(s): {', '.join(unknown)} (not on the exchange list)"
            return envelope(400, "INVALID_CONFIGURATION", message, {"field": "tickers"})
        return None

    def _create(self, bearer: str | None, body: Any, **_: Any) -> httpx.Response:
        user = self._user(bearer)
        if user is None:
            return envelope(401, "UNAUTHORIZED", "sign in first")
        name, tickers = str(body["name"]), list(body["tickers"])
        refused = self._validate(name, tickers)
        if refused is not None:
            return refused
        if len(user["configs"]) >= self._max(user):
            message = f"maximum of {self._max(user)} configuration(s) reached"
            return envelope(409, "LIMIT_REACHED", message)
        config_id = f"c-{secrets.token_hex(4)}"
        config = {
            "config_id": config_id,
            "name": name,
            "tickers": tickers,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "version": 1,
        }
        user["configs"][config_id] = config
        return httpx.Response(201, json=config)

    def _owned(self, bearer: str | None, cid: str) -> dict[str, Any] | None:
        user = self._user(bearer)
        return user["configs"].get(cid) if user else None

    def _update(self, bearer: str | None, body: Any, cid: str, **_: Any) -> httpx.Response:
        config = self._owned(bearer, cid)
        if config is None:
            return envelope(404, "NOT_FOUND", "configuration not found")
        refused = self._validate(str(body["name"]), list(body["tickers"]))
        if refused is not None:
            return refused
        config.update(name=body["name"], tickers=body["tickers"], version=config["version"] + 1)
        return httpx.Response(200, json=config)

    def _delete(self, bearer: str | None, cid: str, **_: Any) -> httpx.Response:
        user = self._user(bearer)
        if user is None or cid not in user["configs"]:
            return envelope(404, "NOT_FOUND", "configuration not found")
        del user["configs"][cid]
        return httpx.Response(200, json={"config_id": cid, "deleted_at": "2026-01-01T00:00:00Z"})

    def _sentiment(self, bearer: str | None, cid: str, **_: Any) -> httpx.Response:
        config = self._owned(bearer, cid)
        if config is None:
            return envelope(404, "NOT_FOUND", "configuration not found")
        key = f"{cid}#{config['version']}"
        hit = key in self.sentiment_reads
        self.sentiment_reads.add(key)
        self.cache_hits, self.cache_misses = self.cache_hits + hit, self.cache_misses + (not hit)

        def source(score: float, status: str = "ok") -> dict[str, Any]:
            return {
                "score": score,
                "label": "neutral",
                "confidence": 0.5,
                "count": 2,
                "status": status,
            }

        tickers = [
            {
                "symbol": symbol,
                "sentiment": {
                    "tiingo": source(0.1),
                    "finnhub": source(0.0, "unavailable"),
                    "our_model": source(0.2),
                    "aggregated": {
                        "score": 0.15,
                        "label": "positive",
                        "confidence": 0.4,
                        "agreement": 0.9,
                        "count": 4,
                        "used": ["our_model", "tiingo"],
                        "missing": ["finnhub"],
                    },
                },
            }
            for symbol in config["tickers"]
        ]
        return httpx.Response(
            200,
            json={
                "config_id": cid,
                "tickers": tickers,
                "source_status": {"tiingo": "ok", "finnhub": "unavailable"},
                "last_updated": "2026-01-01T00:00:00Z",
                "cache_status": "hit" if hit else "miss",
            },
            headers={"X-Cache": "hit" if hit else "miss"},
        )

    # --- tickers ---------------------------------------------------------------------------

    def _search(self, params: dict[str, str], **_: Any) -> httpx.Response:
        query = params.get("q", "").lower()
        results = [
            {"symbol": s, "name": n, "exchange": "NASDAQ", "sector": "Technology"}
            for s, n in LISTED.items()
            if query in s.lower() or query in n.lower()
        ]
        return httpx.Response(200, json={"query": query, "results": results, "count": len(results)})

    def _ohlc(self, ticker: str, params: dict[str, str], **_: Any) -> httpx.Response:
        if ticker not in LISTED:
            return envelope(
                404, "UNKNOWN_TICKER", f"{ticker} is not a listed ticker", {"ticker": ticker}
            )
        candles = [
            {
                "date": f"2026-01-0{day}",
                "open": 100.0 + day,
                "high": 103.0 + day,
                "low": 99.0 + day,
                "close": 101.0 + day * (1 if day % 2 else -1),
                "volume": 1000 * day,
            }
            for day in range(1, 6)
        ]
        return httpx.Response(
            200,
            json={
                "ticker": ticker,
                "candles": candles,
                "count": len(candles),
                "start_date": "2026-01-01",
                "end_date": "2026-01-05",
                "source": "tiingo",
                "range": params.get("range"),
                "range_limited": False,
                "resolution": "D",
                "cache_layer": "l1",
                "stale": False,
                "fetched_at": "2026-01-05T00:00:00Z",
            },
            headers={"X-Cache": "hit"},
        )

    def _history(self, ticker: str, params: dict[str, str], **_: Any) -> httpx.Response:
        points = [
            {
                "date": f"2026-01-0{day}",
                "score": 0.1 * day,
                "label": "neutral",
                "confidence": 0.5,
                "count": day,
                "source": params.get("source"),
            }
            for day in range(1, self.history_points + 1)
        ]
        return httpx.Response(
            200,
            json={
                "ticker": ticker,
                "source": params.get("source"),
                "range": params.get("range"),
                "resolution": "D",
                "history": points,
                "count": len(points),
            },
        )

    # --- operator routes -----------------------------------------------------------------

    def _operator(self, bearer: str | None) -> httpx.Response | None:
        if not self.ops_routes:
            return envelope(404, "NOT_FOUND", "no route")
        if bearer != self.operator_token:
            return envelope(401, "UNAUTHORIZED", "the bearer token is not the operator token")
        return None

    def _caches(self, bearer: str | None, **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        layer = {
            "ttl_s": 300,
            "hits": self.cache_hits,
            "misses": self.cache_misses,
            "entries": len(self.sentiment_reads),
        }
        return httpx.Response(
            200,
            json={
                "layers": {"sentiment": layer},
                "totals": {"hits": self.cache_hits, "misses": self.cache_misses},
                **(
                    {"environments": self.cache_environments}
                    if self.cache_environments is not None
                    else {}
                ),
            },
        )

    def _circuits(self, bearer: str | None, **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        circuits = {
            name: {"state": state, "failures": 0 if state == "closed" else 5, "threshold": 5}
            for name, state in self.circuit_states.items()
        }
        transitions = [
            {"service": n, "from": "closed", "to": s, "at": "2026-01-01T00:00:00Z",
             "reason": "5 failures", "failures": 5}
            for n, s in self.circuit_states.items() if s != "closed"
        ]  # fmt: skip
        for circuit in circuits.values():
            opened = circuit["state"] == "open"
            circuit["retry_at"] = "2999-01-01T00:00:00Z" if opened else None
            circuit["trial_in_progress"] = False
        return httpx.Response(200, json={"circuits": circuits, "transitions": transitions})

    def _quotas(self, bearer: str | None, **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        limits = {
            "tiingo": [("requests", "hour", 50, "2026-01-01T00"),
                       ("requests", "day", 1000, "2026-01-01"),
                       ("symbols", "month", 500, "2026-01")],
            "finnhub": [("requests", "second", 30, "2026-01-01T00:00:00"),
                        ("requests", "minute", 60, "2026-01-01T00:00")],
            "sendgrid": [("requests", "day", 100, "2026-01-01")],
        }  # fmt: skip
        quotas = {}
        for provider, provider_limits in limits.items():
            listed = []
            for counts, per, limit, period in provider_limits:
                name = f"{counts}_per_{per}"
                used = self.quota_used.get(f"{provider}:{name}", 0)
                share = used / limit
                level = "critical" if share >= 0.8 else "warning" if share >= 0.5 else "ok"
                listed.append({"provider": provider, "name": name, "counts": counts, "per": per,
                               "used": used, "limit": limit, "period": period,
                               "resets_at": "2999-01-01T00:00:00Z", "level": level})  # fmt: skip
            listed.sort(key=lambda q: (-q["used"] / q["limit"], q["limit"] - q["used"]))
            tightest = {
                k: v for k, v in listed[0].items() if k not in ("provider", "counts", "per")
            }
            quotas[provider] = {**tightest, "limits": listed}
        return httpx.Response(200, json={"quotas": quotas})

    def _scenario(self, name: str) -> dict[str, Any]:
        enabled = self.chaos_enabled[name]
        return {
            "scenario": name,
            "description": f"{name} described",
            "available": True,
            "enabled": enabled,
            "remaining_s": float(self.chaos_durations.get(name) or 0) if enabled else 0.0,
            "targets": {"tiingo": {"mode": "http_500" if enabled else None, "remaining_s": 0,
                                   "injected": self.tiingo_failures}},
            "reason": None,
        }  # fmt: skip

    def _chaos(self, bearer: str | None, **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        return httpx.Response(
            200, json={"scenarios": {n: self._scenario(n) for n in self.chaos_enabled}}
        )

    def _switch_chaos(self, bearer: str | None, body: Any, **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        name = str(body.get("scenario"))
        if name not in self.chaos_enabled:
            return envelope(
                422, "INVALID_BODY", "unknown scenario", [{"location": "body.scenario"}]
            )
        self.chaos_enabled[name] = bool(body.get("enabled"))
        self.chaos_durations[name] = body.get("duration_s")
        return httpx.Response(200, json=self._scenario(name))

    def _run_ingestion(self, bearer: str | None, **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        self.ingestion_runs += 1
        errors = {}
        if self.chaos_enabled["tiingo_500"]:
            self.tiingo_failures += 1
            errors["tiingo"] = "ProviderUnavailableError: 500"
            if self.tiingo_failures >= 5:
                self.circuit_states["tiingo"] = "open"
        self.articles["pending"] += 3
        self.labelled += [
            ("negative", "negative"),
            ("positive", "positive"),
            ("neutral", "positive"),
        ]
        summary = {"fetched": {"tiingo": 0 if errors else 3, "finnhub": 3}, "new": 3,
                   "duplicates": 0, "published": 1, "errors": errors}  # fmt: skip
        return httpx.Response(200, json=summary)

    def _pipeline(self, bearer: str | None, **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        pending, analyzed = self.articles["pending"], self.articles["analyzed"]
        return httpx.Response(200, json={
            "status_counts": {"pending": pending, "analyzed": analyzed},
            "stages": {"ingested": pending + analyzed, "pending": pending, "analyzed": analyzed,
                       "published": self.ingestion_runs, "delivered": self.ingestion_runs,
                       "retried": 0, "dead_lettered": 0},
            "last_runs": [{"started_at": "2026-01-01T00:00:00Z", "new": 3}],
        })  # fmt: skip

    def _table(self, bearer: str | None, **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        total = self.articles["pending"] + self.articles["analyzed"]
        entities = {"article": total, "user": len(self.users)}
        return httpx.Response(200, json={
            "table": "test-table", "items": sum(entities.values()), "entities": entities,
            "indexes": {
                "by_status": {"partition_key": "status", "sort_key": "timestamp", "items": total,
                              "distinct_values": 2, "top_values": dict(self.articles)},
                "by_sentiment": {"partition_key": "sentiment", "sort_key": "timestamp",
                                 "items": 0, "distinct_values": 0, "top_values": {}},
            },
            "scan_ms": 1.0, "age_s": 0.0,
        })  # fmt: skip

    def _accuracy(self, bearer: str | None, params: dict[str, str], **_: Any) -> httpx.Response:
        if not self.accuracy_route:
            return envelope(404, "NOT_FOUND", "no route for GET /api/v2/ops/accuracy")
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        limit = int(params.get("limit", "500"))
        self.accuracy_limits.append(limit)
        labels = ["negative", "positive", "neutral"]
        pairs = self.labelled[-limit:]
        confusion = [
            [sum(1 for t, s in pairs if (t, s) == (truth, stored)) for stored in labels]
            for truth in labels
        ]
        n, right = len(pairs), sum(1 for t, s in pairs if t == s)
        per_class = {
            label: {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": sum(confusion[i])}
            for i, label in enumerate(labels)
        }
        return httpx.Response(200, json={
            "limit": limit, "articles_read": n, "n": n,
            "accuracy": round(right / n, 4) if n else None,
            "macro_f1": round(right / n, 4) if n else None,
            "labels": labels, "per_class": per_class, "confusion": confusion,
            "model_versions": {"linear-v1": n} if n else {},
            "analyzed_from": "2026-01-01T00:00:00.000000Z" if n else None,
            "analyzed_to": "2026-01-01T00:05:00.000000Z" if n else None,
            "corpus": {"name": "tfns-valid", "description": "labelled headlines",
                       "licence": "MIT", "rows": 2388},
            "note": None if n else "no analyzed articles from the labelled corpus yet",
        })  # fmt: skip

    def _model(self, bearer: str | None, **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        if self.model_card is None:
            return envelope(404, "NOT_FOUND", "the model card has not been built: run `make model`")
        return httpx.Response(200, json=self.model_card)

    def _metrics(self, bearer: str | None, **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        if not self.metrics_route:
            return envelope(404, "NOT_FOUND", "no metrics yet: the metrics function has not run")
        requests = len(self.requests)
        return httpx.Response(200, json={
            "computed_at": "2026-01-01T00:00:00Z",
            "pipeline": {**self.articles, "total": sum(self.articles.values())},
            "sentiment_distribution": {"positive": 3, "negative": 1, "neutral": 1, "total": 5,
                                       "window_s": 86400},
            "api": {"requests": requests, "status_counts": {"200": requests},
                    "latency_ms": {"avg": 2.0, "p50": 1.5, "p95": 4.0, "p99": 7.5, "max": 9.0},
                    "per_minute": [
                        {"minute": "2026-01-01T00:00:00Z", "requests": 2, "p99": 3.0},
                        {"minute": "2026-01-01T00:01:00Z", "requests": 4, "p99": 7.5},
                    ], "window_s": 3600},
            "caches": {"layers": {"accounts": {"hits": 3, "misses": 1, "hit_rate": 0.75}},
                       "hits": 3, "misses": 1, "hit_rate": 0.75},
            "emails": {"queued": 2, "sent": 4, "total": 6},
        })  # fmt: skip

    def _run_metrics(self, bearer: str | None, **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        self.metrics_route = True
        return self._metrics(bearer)

    def _logs(self, bearer: str | None, params: dict[str, str], **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        order = ["DEBUG", "INFO", "WARNING", "ERROR"]
        minimum = order.index(params["level"]) if params.get("level") else 0
        records = [
            r for r in reversed(self.logs)
            if order.index(r["level"]) >= minimum
            and params.get("service", r["service"]) == r["service"]
            and params.get("correlation_id", r["correlation_id"]) == r["correlation_id"]
        ][: int(params.get("limit", 100))]  # fmt: skip
        services = sorted({r["service"] for r in self.logs})
        return httpx.Response(
            200,
            json={"records": records, "count": len(records), "buffered": len(self.logs),
                  "services": services, "levels": order,
                  **({"environment": self.environment} if self.environment else {})},
        )  # fmt: skip

    def _traces(self, bearer: str | None, **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        listed = [{k: v for k, v in t.items() if k != "spans"} for t in reversed(self.traces)]
        body: dict[str, Any] = {"traces": listed, "count": len(listed)}
        if self.environment:
            body["environment"] = self.environment
        return httpx.Response(200, json=body)

    def _trace(self, bearer: str | None, cid: str, **_: Any) -> httpx.Response:
        refused = self._operator(bearer)
        if refused is not None:
            return refused
        found = next((t for t in self.traces if t["correlation_id"] == cid), None)
        if found is None:
            return envelope(404, "NOT_FOUND", "no trace of that correlation ID is kept")
        return httpx.Response(200, json=found)


def location_query(response_location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response_location).query)

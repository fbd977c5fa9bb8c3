"""What the API end-to-end tests share: an embedded stack (with the news pipeline or without),
another function instance on it, sign-in, the operator token, the error envelope, a table
snapshot."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from services.composition.api import table_api_dependencies
from services.functions import dashboard
from services.local.function_url import FunctionUrlServer
from services.local.paths import LocalPaths
from services.local.stack import LocalStack, StackOptions
from services.settings import Settings
from services.store.cache_counts import CACHE_COUNTS
from services.store.keys import RATE_WINDOW_PREFIX
from services.store.metrics import API_MINUTES
from services.store.models import SingleUseToken, TokenKind
from services.store.table import dynamodb_table
from services.store.tokens import DynamoTokenRepository

# The suites send hundreds of requests a second from one address, some from one session: the
# limiter stays in front of every route (and shares its counts through the table), with room
# for that. The limits themselves are tested with the defaults (`default_rate_limits=True`).
ROOMY_RATE_LIMITS = {"rate_limit_per_identity": 1_000_000, "rate_limit_per_ip": 1_000_000}
# Likewise the hourly allowances per caller (sign-in e-mails, price fetches): the suites ask
# for many from one address. They are tested with the defaults (`default_allowances=True`).
ROOMY_ALLOWANCES = {
    "sign_in_emails_per_recipient_per_hour": 1_000_000,
    "sign_in_emails_per_client_per_hour": 1_000_000,
    "price_fetches_per_session_per_hour": 1_000_000,
    "price_fetches_per_client_per_hour": 1_000_000,
}


@contextmanager
def api_stack(root: Path, state_dir: Path, **options: Any) -> Iterator[LocalStack]:
    """The embedded stack on free ports, DynamoDB Local in memory (pipeline off unless asked).

    One execution environment unless `api_workers=N` asks for more: most suites assert what
    one instance keeps in memory (rate-limit counts between exchanges, a cache entry its own
    write invalidated, its pending quota counts), which another environment would not see, as
    two Lambda environments would not. The concurrency suites ask for several."""
    settings = options.pop("settings", Settings())
    if not options.pop("default_rate_limits", False):
        settings = settings.model_copy(update=ROOMY_RATE_LIMITS)
    if not options.pop("default_allowances", False):
        settings = settings.model_copy(update=ROOMY_ALLOWANCES)
    stack_options = StackOptions(
        paths=LocalPaths(root=root, state_dir_override=state_dir),
        settings=settings,
        api_port=0,
        dynamodb_port=0,
        in_memory=True,
        pipeline=options.pop("pipeline", False),
        api_workers=options.pop("api_workers", 1),
        **options,
    )
    running = LocalStack(stack_options).start()
    try:
        yield running
    finally:
        running.stop()


# Schedules on, but only the notification function's comes round during a test: every half
# second, as the minute schedule would, retrying a failed e-mail half a second later. The test
# runs the ingestion, analysis and metrics cycles itself.
NOTIFICATIONS_ONLY_SCHEDULED = {
    "ingestion_interval_s": 3600,
    "metrics_interval_s": 3600,
    "digest_interval_s": 3600,
    "notification_interval_s": 0.5,
    "email_retry_base_s": 0.5,
}


@contextmanager
def news_stack(
    root: Path,
    state_dir: Path,
    settings: Settings | None = None,
    *,
    notifications: bool = False,
    **options: Any,
) -> Iterator[LocalStack]:
    """`api_stack` with the news pipeline, for a test that runs its cycles itself: no schedule
    comes round, or with `notifications` only the notification function's (its settings and
    the other schedules' are then `NOTIFICATIONS_ONLY_SCHEDULED`'s)."""
    settings = settings if settings is not None else Settings()
    if notifications:
        settings = settings.model_copy(update=NOTIFICATIONS_ONLY_SCHEDULED)
    with api_stack(
        root, state_dir, settings=settings, pipeline=True, schedules=notifications, **options
    ) as running:
        yield running


@contextmanager
def function_instance(settings: Settings, table: Any = None) -> Iterator[httpx.Client]:
    """Another dashboard function on its own port, with the settings (and table) given: its
    memory starts empty, and a test can hand it a different or a doctored collaborator."""
    deps = table_api_dependencies(settings, table=table)
    server = FunctionUrlServer(dashboard.build_dashboard(deps), port=0).start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            yield http
    finally:
        server.stop()


def operator_headers(stack: LocalStack) -> dict[str, str]:
    """The bearer of the ops routes: the token the stack wrote to its state directory."""
    token = stack.options.paths.operator_token_file.read_text().strip()
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: httpx.Client) -> dict[str, str]:
    response = client.post("/api/v2/auth/anonymous")
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def error_code(response: httpx.Response) -> str:
    """The envelope's code, after checking the envelope is exactly as API.md says."""
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    assert "Traceback" not in response.text
    return str(body["error"]["code"])


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = 60.0) -> Any:
    """`check()`'s first truthy answer, polled every 0.2 s; fails naming `what` on time-out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def snapshot(stack: LocalStack) -> list[dict[str, Any]]:
    """Every item of the table, in key order: to prove a refused request changed nothing.
    The instances' own bookkeeping is left out: every request is counted, refused or not, and
    an instance writes its counts (rate-limit windows, its requests per minute, its cache
    layers' counters) whenever a write falls due."""
    table = dynamodb_table(stack.settings)  # type: ignore[arg-type]
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**kwargs)
        items += [i for i in page["Items"] if not _bookkeeping(str(i["PK"]))]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (i["PK"], i["SK"]))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def expired_token(
    stack: LocalStack,
    kind: TokenKind,
    subject: str,
    lifetime: timedelta,
    data: dict[str, str] | None = None,
) -> str:
    """A single-use token of `kind` written straight to the stack's table, as if issued
    `lifetime` before it expired five minutes ago: the secret a caller would bring back."""
    assert stack.settings is not None
    secret = secrets.token_urlsafe(32)
    expired_at = datetime.now(UTC) - timedelta(minutes=5)
    DynamoTokenRepository(dynamodb_table(stack.settings)).put(
        SingleUseToken(
            token_hash=hashlib.sha256(secret.encode()).hexdigest(),
            kind=kind,
            subject=subject,
            created_at=expired_at - lifetime,
            expires_at=expired_at,
            data=data or {},
        )
    )
    return secret


def _bookkeeping(partition: str) -> bool:
    return partition.startswith(RATE_WINDOW_PREFIX) or partition in (API_MINUTES, CACHE_COUNTS)


MAGIC_LINK = re.compile(r"\?magic_token=([A-Za-z0-9_-]+)")


def outbox(stack: LocalStack, address: str) -> list[dict[str, Any]]:
    """The e-mails the SendGrid emulator accepted for `address`."""
    sendgrid = stack.describe()["sendgrid_url"]
    response = httpx.get(f"{sendgrid}/_emulator/outbox", params={"to": address}, timeout=10)
    assert response.status_code == 200
    messages: list[dict[str, Any]] = response.json()
    return messages


def account(client: httpx.Client, stack: LocalStack) -> tuple[str, dict[str, str]]:
    """A full account signed in through its magic link: its address and bearer."""
    address = f"account-{uuid.uuid4().hex[:8]}@example.com"
    assert client.post("/api/v2/auth/magic-link", json={"email": address}).status_code == 202
    message = wait_for("the sign-in e-mail", lambda: outbox(stack, address))[0]
    token = MAGIC_LINK.search(message["text"]).group(1)  # type: ignore[union-attr]
    response = client.post("/api/v2/auth/magic-link/verify", json={"token": token})
    assert response.status_code == 200, response.text
    return address, {"Authorization": f"Bearer {response.json()['token']}"}

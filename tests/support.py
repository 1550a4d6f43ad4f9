"""Real parts for tests: free loopback ports, dev keys, the sandbox as a child process."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from onboarding.codec import Keyring

LOOPBACK = "127.0.0.1"
SERVICE_ACCOUNT = "onboarding-test@test-tenant.iam.acesso.io"
API_KEY = "test-api-key"


def fixed_key(label: str) -> str:
    """A test key derived from its label: the same in every run, never a secret."""
    return base64.b64encode(hashlib.sha256(label.encode()).digest()).decode()


TEST_KEYS = f"test-1:{fixed_key('onboarding test key 1')}"


def fixed_keyring() -> Keyring:
    return Keyring.parse(TEST_KEYS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before port {port}")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port} after {timeout}s")


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path


def make_key_pair(directory: Path) -> KeyPair:
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = directory / "service-account.pem"
    public = directory / "service-account.pub.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private.chmod(0o600)
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return KeyPair(private, public)


@dataclass(frozen=True)
class Sandbox:
    url: str

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/_sandbox/stats").json())

    def reset(self) -> None:
        httpx.post(f"{self.url}/_sandbox/reset").raise_for_status()

    def configure(self, **settings: float) -> None:
        httpx.post(f"{self.url}/_sandbox/config", json=settings).raise_for_status()

    def rate_limit(self) -> dict[str, Any]:
        """The tenant limit and every process-API arrival the sandbox saw."""
        return dict(httpx.get(f"{self.url}/_sandbox/rate-limit").json())

    def inject(self, *rules: dict[str, Any]) -> None:
        """Add fault rules (sandbox/faults.py) for the next calls."""
        httpx.post(f"{self.url}/_sandbox/faults", json={"rules": list(rules)}).raise_for_status()

    def clear_faults(self) -> None:
        httpx.delete(f"{self.url}/_sandbox/faults").raise_for_status()


@contextmanager
def serving_process(
    command: list[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run a server process (output to `log`) until the block ends; yields its URL."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for_port(port, process)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def running_sandbox(
    keys: KeyPair, async_delay: float, log: Path, extra_args: Sequence[str] = ()
) -> Iterator[Sandbox]:
    port = free_port()
    command = [sys.executable, "-m", "sandbox", "--host", LOOPBACK, "--port", str(port)]
    command += ["--public-key", str(keys.public), "--service-account", SERVICE_ACCOUNT]
    command += ["--api-key", API_KEY, "--async-delay", str(async_delay), *extra_args]
    with serving_process(command, port, log) as url:
        yield Sandbox(url)


S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test-access-key",
    "AWS_SECRET_ACCESS_KEY": "test-secret-key",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def running_s3(log: Path) -> Iterator[str]:
    """A real S3-compatible server (moto's server mode) on a free port; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)]
    with serving_process(command, port, log) as url:
        yield url


CODEC_TOKEN = "codec-test-token"
GATEWAY_TOKEN = "gateway-test-token"


@contextmanager
def running_gateway(log: Path, selfie_dir: Path, **settings: str) -> Iterator[str]:
    """The gateway as `python -m onboarding.gateway` runs it, with the test keys and token."""
    port = free_port()
    env = {
        "GATEWAY_HOST": LOOPBACK,
        "GATEWAY_PORT": str(port),
        "SELFIE_DIR": str(selfie_dir),
        "ONBOARDING_ENCRYPTION_KEYS": TEST_KEYS,
        "CODEC_AUTH_TOKEN": CODEC_TOKEN,
        "GATEWAY_API_TOKEN": GATEWAY_TOKEN,
        **{name.upper(): value for name, value in settings.items()},
    }
    command = [sys.executable, "-m", "onboarding.gateway"]
    with serving_process(command, port, log, environ_with(env)) as url:
        yield url


def worker_environment(keys: KeyPair, sandbox: Sandbox, selfie_dir: Path) -> dict[str, str]:
    """The settings a worker needs to use the sandbox as its Unico."""
    return {
        "UNICO_AUTH_URL": sandbox.url,
        "UNICO_API_URL": sandbox.url,
        "UNICO_SERVICE_ACCOUNT": SERVICE_ACCOUNT,
        "UNICO_PRIVATE_KEY_FILE": str(keys.private),
        "UNICO_API_KEY": API_KEY,
        "SELFIE_DIR": str(selfie_dir),
        "ONBOARDING_ENCRYPTION_KEYS": TEST_KEYS,
    }


def environ_with(overrides: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **overrides}

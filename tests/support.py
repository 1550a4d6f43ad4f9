"""Real parts for tests: fixed test keys and tokens, the sandbox, the gateway and an S3
server as child processes with them, and the settings a worker needs beside them."""

from __future__ import annotations

import base64
import hashlib
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from devstack.credentials import ServiceAccountKeys, service_account
from devstack.sandbox_client import SandboxClient
from devstack.stack import free_port, sandbox_command, start_child, wait_for_port
from onboarding_client.keyring import Keyring
from tests.reviewers import TEST_SIGNER_KEYS

LOOPBACK = "127.0.0.1"
SERVICE_ACCOUNT = "onboarding-test@test-tenant.iam.acesso.io"
API_KEY = "test-api-key"
IDENTITY_CLOUD_SECRET = "test-identity-cloud-secret"  # a test secret; never in a history
IDENTITY_CLOUD_CLIENT = "onboarding-test"
AUTH0_SECRET = "test-auth0-secret"  # a test secret; never in a history
AUTH0_CLIENT = "onboarding-test"


def fixed_key(label: str) -> str:
    """A test key derived from its label: the same in every run, never a secret."""
    return base64.b64encode(hashlib.sha256(label.encode()).digest()).decode()


TEST_KEYS = f"test-1:{fixed_key('onboarding test key 1')}"


def fixed_keyring() -> Keyring:
    return Keyring.parse(TEST_KEYS)


KeyPair = ServiceAccountKeys


def make_key_pair(directory: Path) -> KeyPair:
    """A service account's key pair (and API key) in `directory`, made once."""
    return service_account(directory)


Sandbox = SandboxClient


@contextmanager
def serving_process(
    command: list[str], port: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run a server process (output to `log`) until the block ends; yields its URL."""
    child = start_child(log.stem, command, env or dict(os.environ), log)
    try:
        wait_for_port(port, 30, child)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        child.stop(10)


@contextmanager
def running_sandbox(
    keys: KeyPair, async_delay: float, log: Path, extra_args: Sequence[str] = ()
) -> Iterator[Sandbox]:
    port = free_port()
    command = [*sandbox_command(port), "--public-key", str(keys.public)]
    command += ["--service-account", SERVICE_ACCOUNT, "--api-key", API_KEY]
    command += ["--identity-cloud-client-id", IDENTITY_CLOUD_CLIENT]
    command += ["--identity-cloud-client-secret", IDENTITY_CLOUD_SECRET]
    command += ["--auth0-client-id", AUTH0_CLIENT, "--auth0-client-secret", AUTH0_SECRET]
    command += ["--async-delay", str(async_delay), *extra_args]
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
    """The settings a worker needs to use the sandbox as its Unico, its Identity Cloud, its
    Auth0 and its Guardian."""
    return {
        "UNICO_AUTH_URL": sandbox.url,
        "UNICO_API_URL": sandbox.url,
        "UNICO_SERVICE_ACCOUNT": SERVICE_ACCOUNT,
        "UNICO_PRIVATE_KEY_FILE": str(keys.private),
        "UNICO_API_KEY": API_KEY,
        "IDENTITY_CLOUD_URL": f"{sandbox.url}/identity-cloud",
        "IDENTITY_CLOUD_CLIENT_ID": IDENTITY_CLOUD_CLIENT,
        "IDENTITY_CLOUD_CLIENT_SECRET": IDENTITY_CLOUD_SECRET,
        "AUTH0_TENANT_URL": f"{sandbox.url}/auth0",
        "AUTH0_CLIENT_ID": AUTH0_CLIENT,
        "AUTH0_CLIENT_SECRET": AUTH0_SECRET,
        "GUARDIAN_URL": f"{sandbox.url}/guardian",
        "SELFIE_DIR": str(selfie_dir),
        "ONBOARDING_ENCRYPTION_KEYS": TEST_KEYS,
        "REVIEW_SIGNER_KEYS": TEST_SIGNER_KEYS,
    }


def environ_with(overrides: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **overrides}


WEBHOOK_TOKEN = "test-webhook-token"  # a test secret; it never enters a history


def webhook_args(gateway_port: int) -> list[str]:
    """The sandbox flags that make it announce to the gateway, as Unico's team would."""
    return [
        "--webhook-url",
        f"http://{LOOPBACK}:{gateway_port}/webhooks/unico",
        "--webhook-header",
        f"Authorization: Bearer {WEBHOOK_TOKEN}",
    ]

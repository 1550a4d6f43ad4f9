"""The worker, the CLI and the gateway reach Temporal over real TLS, as in production.

A real-time dev server sits behind a TLS-terminating proxy that requires a client
certificate (mTLS), and behind a gRPC proxy that lets in only calls with the right API key;
certificates are made at test time. Every process is started as a deployment starts it, with
Temporal's own variables or a profile file, and each misconfiguration stops it within
seconds, in one line that names the setting, with exit code 2.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from devstack.demo import SAMPLE_SELFIE
from devstack.stack import Child, DevStack
from tests.tls import SERVER_NAME, ApiKeyProxy, Pki, api_key_proxy, mtls_proxy

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "test-temporal-api-key"  # a test secret, for the proxy that stands for Cloud
REFUSAL_SECONDS = 10  # "within seconds": far below any hang, above a loaded machine's start


@pytest.fixture(scope="module")
def pki(state: Path) -> Pki:
    return Pki.make(state / "pki")


@pytest_asyncio.fixture(scope="module")
async def stack(state: Path) -> AsyncIterator[DevStack]:
    """The server in plaintext behind the proxies; the sandbox and the gateway beside it."""
    parts = ("temporal", "sandbox", "gateway")
    async with DevStack.on_free_ports(state / "stack", parts=parts, async_delay_seconds=1.0) as s:
        yield s


def upstream(stack: DevStack) -> str:
    return f"127.0.0.1:{stack.config.ports.temporal}"


@pytest_asyncio.fixture(scope="module")
async def mtls(pki: Pki, stack: DevStack) -> AsyncIterator[str]:
    async with mtls_proxy(pki, upstream(stack)) as address:
        yield address


@pytest_asyncio.fixture(scope="module")
async def cloud(pki: Pki, stack: DevStack) -> AsyncIterator[ApiKeyProxy]:
    async with api_key_proxy(pki, upstream(stack), API_KEY) as proxy:
        yield proxy


@dataclass
class Ran:
    code: int
    out: str
    err: str
    seconds: float


async def run(command: list[str], env: dict[str, str], timeout: float = 120) -> Ran:
    """A process of ours, run without blocking the loop the proxies serve from."""
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *command,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode(), time.monotonic() - started)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "onboarding.cli", *args]


def start_command(request_id: str) -> list[str]:
    return cli(
        "start", "--cpf", "12345678909", "--name", "Maria Silva", "--selfie",
        str(SAMPLE_SELFIE), "--request-id", request_id, "--wait", "--json",
    )  # fmt: skip


async def onboard_through(stack: DevStack, connection: dict[str, str]) -> tuple[Child, Any]:
    """A worker process and `onboarding start --wait`, both connected as `connection` says."""
    settings = {**connection, "TASK_QUEUE": f"tls-{uuid.uuid4().hex[:8]}"}
    worker = stack.spawn_worker(f"worker-{settings['TASK_QUEUE']}", settings, probes=True)
    try:
        await asyncio.to_thread(worker.wait_ready)
        done = await run(start_command(settings["TASK_QUEUE"]), {**stack.environment, **settings})
    finally:
        # In a thread: the proxies serve from this loop, and the worker's shutdown uses them.
        assert await asyncio.to_thread(worker.stop) == 0
    assert done.code == 0, done.err
    return worker, json.loads(done.out)


async def test_an_onboarding_completes_over_mtls(stack: DevStack, mtls: str, pki: Pki) -> None:
    worker, answer = await onboard_through(stack, pki.mtls_environment(mtls))
    assert answer["result"]["outcome"] == "approved"
    assert f"{mtls}, namespace default, mTLS" in worker.log.read_text()


async def test_an_onboarding_completes_with_an_api_key_from_a_profile_file(
    stack: DevStack, cloud: ApiKeyProxy, pki: Pki, state: Path
) -> None:
    profile = state / "cloud.toml"
    profile.write_text(
        f'[profile.cloud]\naddress = "{cloud.address}"\nnamespace = "default"\n'
        f'api_key = "{API_KEY}"\n'
    )
    connection = {
        "TEMPORAL_CONFIG_FILE": str(profile),
        "TEMPORAL_PROFILE": "cloud",
        # The proxy's certificate is the test CA's: the system's roots do not know it.
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca),
        "TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
    }
    cloud.seen.clear()
    _, answer = await onboard_through(stack, connection)
    assert answer["result"]["outcome"] == "approved"
    assert cloud.seen and set(cloud.seen) == {f"Bearer {API_KEY}"}, "every call carried it"


async def test_an_api_key_alone_turns_tls_on(
    stack: DevStack, cloud: ApiKeyProxy, state: Path
) -> None:
    """No TLS setting at all: the key alone makes the client speak TLS, and verify the
    server against the system's roots, which do not know the test CA."""
    profile = state / "key-only.toml"
    profile.write_text(f'[profile.default]\naddress = "{cloud.address}"\napi_key = "{API_KEY}"\n')
    done = await run(
        cli("status", "r-1"), {**stack.environment, "TEMPORAL_CONFIG_FILE": str(profile)}
    )
    line = one_line(done, "onboarding status: ")
    assert line.startswith("onboarding status: TEMPORAL_TLS_SERVER_CA_CERT_PATH: ")
    assert "no CA of this system signed" in line


async def test_a_refused_api_key_stops_the_worker_in_one_line(
    stack: DevStack, cloud: ApiKeyProxy, pki: Pki, state: Path
) -> None:
    profile = state / "wrong-key.toml"
    profile.write_text(f'[profile.default]\naddress = "{cloud.address}"\napi_key = "not-it"\n')
    env = {
        **stack.environment,
        "TEMPORAL_CONFIG_FILE": str(profile),
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca),
        "TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
    }
    done = await run([sys.executable, "-m", "worker"], env)
    line = one_line(done, "worker: ")
    assert line == (
        f'worker: api_key of profile "default" in {profile}: the server at {cloud.address} '
        "refused the API key (Request unauthorized.)"
    )
    assert "not-it" not in done.err


# --- refusals: one line naming the setting, exit 2, within seconds ----------------------

MTLS_REFUSALS: dict[str, tuple[dict[str, str | None], str]] = {
    "no client certificate": (
        {"TEMPORAL_TLS_CLIENT_CERT_PATH": None, "TEMPORAL_TLS_CLIENT_KEY_PATH": None},
        "TEMPORAL_TLS_CLIENT_CERT_PATH: the server at {address} closed the connection during "
        "TLS: it wants a client certificate",
    ),
    "a client certificate of another CA": (
        {"TEMPORAL_TLS_CLIENT_CERT_PATH": "other_client_cert",
         "TEMPORAL_TLS_CLIENT_KEY_PATH": "other_client_key"},
        "TEMPORAL_TLS_CLIENT_CERT_PATH: the server at {address} refused the client certificate",
    ),
    "a wrong CA": (
        {"TEMPORAL_TLS_SERVER_CA_CERT_PATH": "other_ca"},
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH: the server at {address} presents a certificate "
        "this CA did not sign",
    ),
    "a wrong server name": (
        {"TEMPORAL_TLS_SERVER_NAME": "wrong.test"},
        "TEMPORAL_TLS_SERVER_NAME: the server at {address} presents a certificate for "
        f"{SERVER_NAME}, not wrong.test",
    ),
    "plaintext to a TLS server": (
        {"TEMPORAL_TLS": "false"},
        "TEMPORAL_TLS: the server at {address} speaks TLS, and TLS is off",
    ),
    "a key that is not the certificate's": (
        {"TEMPORAL_TLS_CLIENT_KEY_PATH": "other_client_key"},
        "TEMPORAL_TLS_CLIENT_KEY_PATH: the key does not match the certificate of "
        "TEMPORAL_TLS_CLIENT_CERT_PATH",
    ),
    "a missing certificate file": (
        {"TEMPORAL_TLS_CLIENT_CERT_PATH": "/nonexistent/client.pem"},
        "TEMPORAL_TLS_CLIENT_CERT_PATH: cannot read /nonexistent/client.pem: No such file",
    ),
}  # fmt: skip


def one_line(done: Ran, prefix: str) -> str:
    assert done.code == 2, (done.code, done.err)
    assert "Traceback" not in done.err
    lines = done.err.strip().splitlines()
    assert len(lines) == 1, done.err
    assert lines[0].startswith(prefix), lines[0]
    assert done.seconds < REFUSAL_SECONDS, f"{done.seconds:.1f}s"
    return lines[0]


def mtls_case(pki: Pki, address: str, changes: dict[str, str | None]) -> dict[str, str]:
    env = pki.mtls_environment(address)
    for name, value in changes.items():
        if value is None:
            env[name] = ""  # unset: an empty variable counts as none
        else:
            env[name] = str(getattr(pki, value)) if hasattr(pki, value) else value
    return env


@pytest.mark.parametrize("case", list(MTLS_REFUSALS))
@pytest.mark.parametrize("who", ["worker", "cli", "gateway"])
async def test_each_misconfiguration_stops_the_process_in_one_line(
    stack: DevStack, mtls: str, pki: Pki, who: str, case: str
) -> None:
    changes, expected = MTLS_REFUSALS[case]
    env = {**stack.environment, **mtls_case(pki, mtls, changes)}
    if who == "worker":
        command, prefix = [sys.executable, "-m", "worker"], "worker: "
    elif who == "cli":
        command, prefix = cli("status", "r-1"), "onboarding status: "
    else:
        # The webhook alone, on a port never bound: the connection fails first.
        env |= {"GATEWAY_ROUTES": "webhook", "GATEWAY_PORT": "1"}
        command, prefix = [sys.executable, "-m", "onboarding.gateway"], "onboarding.gateway: "
    line = one_line(await run(command, env), prefix)
    assert line.startswith(prefix + expected.format(address=mtls)), line

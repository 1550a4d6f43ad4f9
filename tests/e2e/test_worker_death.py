"""A worker killed while a Unico call is out: the call is retried within seconds, and a
create whose answer died with the worker is counted, so that the processes Unico holds are
the onboarding's attempts. For a capture of Unico's SDK (one use), the retried create meets
10508: the onboarding ends `recapture`, the lost create still counted.

Real processes: `onboarding dev` (which restarts the worker), the sandbox holding its
answers 3 s so that the kill lands while the request is out, the worker killed with SIGKILL.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack.sandbox_client import SandboxClient
from tests.e2e.local_stack import BIN, SELFIE, Stack, start_stack
from tests.e2e.test_worker_restart import worker_pids

pytestmark = pytest.mark.e2e

# Longer than the 5 s heartbeat timeout plus the restart, far shorter than the 60 s attempt
# timeout that alone noticed a dead worker before.
RETRY_WITHIN_SECONDS = 30


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("death") / "stack")
    try:
        yield running
    finally:
        running.process.send_signal(signal.SIGINT)
        running.process.communicate(timeout=60)


def start(
    stack: Stack, cpf: str, request_id: str, selfie: list[str] | None = None
) -> subprocess.Popen[str]:
    command = [
        str(BIN / "onboarding"), "start", "--cpf", cpf, "--name", "Maria Silva",
        *(selfie or ["--selfie", str(SELFIE)]), "--request-id", request_id, "--wait", "--json",
    ]  # fmt: skip
    return subprocess.Popen(
        command, env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def kill_while_out(stack: Stack, sandbox: SandboxClient, counter: str) -> None:
    """Once the held request reached the sandbox, kill the worker; then wait for the retry."""
    seen = sandbox.stats()[counter]
    deadline = time.monotonic() + 30
    while sandbox.stats()[counter] == seen:
        assert time.monotonic() < deadline, f"no {counter}"
        time.sleep(0.05)
    [worker] = worker_pids(stack.process.pid)
    os.kill(worker, signal.SIGKILL)
    killed_at = time.monotonic()
    while sandbox.stats()[counter] == seen + 1:
        assert time.monotonic() - killed_at < RETRY_WITHIN_SECONDS, "not retried in time"
        time.sleep(0.1)


def result_of(started: subprocess.Popen[str]) -> dict[str, Any]:
    output, errors = started.communicate(timeout=120)
    assert started.returncode == 0, errors
    result: dict[str, Any] = json.loads(output)["result"]
    return result


def lost_with_its_worker(
    stack: Stack, endpoint: str, cpf: str, request_id: str, selfie: list[str] | None = None
) -> tuple[dict[str, Any], int]:
    """One onboarding whose worker is killed while its call to `endpoint` is out: its result,
    and the processes the sandbox created for it."""
    sandbox = SandboxClient(f"http://127.0.0.1:{stack.ports['sandbox']}")
    created = sandbox.stats()["processes_created"]
    sandbox.inject({"endpoint": endpoint, "times": 1, "delay_seconds": 3})
    started = start(stack, cpf, request_id, selfie)
    kill_while_out(stack, sandbox, f"{endpoint}_requests")
    result = result_of(started)
    return result, sandbox.stats()["processes_created"] - created


def test_a_create_lost_with_its_worker_is_counted(stack: Stack) -> None:
    result, made = lost_with_its_worker(stack, "create", "12345678909", "death-during-create")
    assert result["outcome"] == "approved"
    assert made == 2, "the killed create made a process, and the retry another"
    assert (result["attempts"], result["ambiguous_creates"]) == (2, 1)
    status = stack.onboarding("status", "death-during-create", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["ambiguous_creates"] == 1


def test_a_capture_lost_with_its_worker_ends_recapture_and_is_counted(
    stack: Stack, tmp_path: Path
) -> None:
    sandbox = SandboxClient(f"http://127.0.0.1:{stack.ports['sandbox']}")
    order = {"image_base64": base64.b64encode(SELFIE.read_bytes()).decode(), "liveness": "live"}
    capture = tmp_path / "live.capture"
    capture.write_text(sandbox.request("POST", "captures", order)["capture"])
    given = ["--capture", str(capture), "--selfie", str(SELFIE)]
    result, made = lost_with_its_worker(stack, "create", "12345678909", "death-capture", given)
    assert (result["outcome"], [r["code"] for r in result["reasons"]]) == (
        "recapture",
        ["unico.10508"],
    )
    assert made == 1, "the killed create made the process; the retry, with a used capture, none"
    assert (result["attempts"], result["ambiguous_creates"]) == (2, 1)


def test_a_read_lost_with_its_worker_is_read_again(stack: Stack) -> None:
    result, made = lost_with_its_worker(stack, "get", "00000000272", "death-during-read")
    assert result["outcome"] == "approved"
    assert made == 1
    assert (result["attempts"], result["ambiguous_creates"]) == (1, 0)


def test_the_stack_runs_on(stack: Stack) -> None:
    assert stack.process.poll() is None, "one dead worker must not stop the stack"

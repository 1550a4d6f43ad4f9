"""`onboarding dev` restarts a worker that dies, as a process manager would, and the rest of
the stack runs on: the same server, sandbox (with its state) and gateway.

Real processes: the stack as users run it, the worker killed with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from devstack.sandbox_client import SandboxClient
from tests.e2e.local_stack import SELFIE, Stack, start_stack

pytestmark = pytest.mark.e2e

# A rule on Guardian's ticket endpoint: an onboarding without MFA never reaches it, so it
# stays in the sandbox's state until someone removes it (or the sandbox starts anew).
UNUSED_FAULT = {"endpoint": "ticket", "status": 503, "times": None}


def worker_pids(supervisor: int) -> set[int]:
    """The live `python -m worker` children of the `onboarding dev` process (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            arguments = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if parent == supervisor and arguments[1:3] == [b"-m", b"worker"]:
            found.add(int(stat.parent.name))
    return found


def approved(stack: Stack, request_id: str) -> bool:
    done = stack.onboarding(
        "start", "--cpf", "12345678909", "--name", "Maria Silva", "--selfie", str(SELFIE),
        "--request-id", request_id, "--wait", "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return bool(json.loads(done.stdout)["result"]["outcome"] == "approved")


def test_a_killed_worker_is_restarted_and_the_stack_keeps_its_state(state: Path) -> None:
    stack = start_stack(state / "stack")
    try:
        sandbox = SandboxClient(f"http://127.0.0.1:{stack.ports['sandbox']}")
        assert approved(stack, "restart-before")
        sandbox.inject(UNUSED_FAULT)
        created = sandbox.stats()["processes_created"]
        [killed] = worker_pids(stack.process.pid)

        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not (restarted := worker_pids(stack.process.pid) - {killed}):
            assert time.monotonic() < deadline, "no new worker"
            assert stack.process.poll() is None, "the stack stopped"
            time.sleep(0.2)

        assert approved(stack, "restart-after")
        # The same sandbox, its state kept: the rule, and one more process than before.
        assert [rule["endpoint"] for rule in sandbox.request("GET", "faults")["rules"]] == [
            "ticket"
        ]
        assert sandbox.stats()["processes_created"] == created + 1
        assert worker_pids(stack.process.pid) == restarted
    finally:
        stack.process.send_signal(signal.SIGINT)  # Ctrl-C
        output, _ = stack.process.communicate(timeout=60)
    assert stack.process.returncode == 0, output[-4000:]
    assert "worker exited with code -9 (SIGKILL); restarting it in 1s" in output
    assert f"worker restarted (pid {restarted.pop()})" in output

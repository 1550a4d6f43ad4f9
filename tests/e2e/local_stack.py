"""`onboarding dev` as a user runs it, as a child process, and the `onboarding` command
beside it: for the end-to-end tests that drive the real stack."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack.stack import free_port

BIN = Path(sys.executable).parent
SELFIE = Path(__file__).parents[2] / "onboarding" / "assets" / "sample-selfie.jpg"


@dataclass
class Stack:
    process: subprocess.Popen[str]
    env: dict[str, str]
    ports: dict[str, int]
    state_dir: Path

    def onboarding(
        self, *args: str, timeout: float = 120, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "onboarding"), *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def result_of(stack: Stack, request_id: str) -> dict[str, Any]:
    """`onboarding result --json`: the onboarding's result."""
    done = stack.onboarding("result", request_id, "--json")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def review_waiting(stack: Stack, request_id: str, cpf: str = "00000000353") -> None:
    """An onboarding with review on that waits for a reviewer, once the queue lists it
    (00000000353: Unico answers score 28)."""
    started = stack.onboarding(
        "start", "--cpf", cpf, "--name", "Maria Silva", "--selfie", str(SELFIE),
        "--request-id", request_id, "--review",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    deadline = time.monotonic() + 60
    while True:
        listed = json.loads(stack.onboarding("review", "list", "--json").stdout)
        if any(row["request_id"] == request_id for row in listed):
            return
        assert time.monotonic() < deadline, f"{request_id} never waited for a review"
        time.sleep(0.5)


def start_stack(state_dir: Path) -> Stack:
    ports = {name: free_port() for name in ("temporal", "ui", "gateway", "sandbox", "console")}
    command = [str(BIN / "onboarding"), "dev", "--state-dir", str(state_dir)]
    for name, port in ports.items():
        command += [f"--{name}-port", str(port)]
    command += ["--async-delay", "1"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    deadline = time.monotonic() + 120
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "stack is up" in line or time.monotonic() > deadline:
            break
    assert any("stack is up" in line for line in seen), "".join(seen)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")},
        # The profile file the stack wrote for its children serves the CLI as well.
        "TEMPORAL_CONFIG_FILE": str(state_dir / "temporal.toml"),
        "GATEWAY_URL": f"http://127.0.0.1:{ports['gateway']}",
        "CONSOLE_PUBLIC_URL": f"http://127.0.0.1:{ports['console']}",
        # Where `onboarding demo` reads the person's SMS (the sandbox on its own port here).
        "GUARDIAN_URL": f"http://127.0.0.1:{ports['sandbox']}/guardian",
        # As beside `make run`: the CLI finds the stack's dev key and gateway token under
        # the state folder.
        "STATE_DIR": str(state_dir),
    }
    return Stack(process, env, ports, state_dir)


def stop_stack(stack: Stack) -> int:
    """Ctrl-C, as a user stops it: its exit status (what it said last goes to stderr when
    that is not 0, for the failing test's report)."""
    stack.process.send_signal(signal.SIGINT)
    status = stack.process.wait(60)
    if status != 0 and stack.process.stdout is not None:
        print(stack.process.stdout.read()[-4000:], file=sys.stderr)
    return status


@contextmanager
def running_stack(state_dir: Path) -> Iterator[Stack]:
    """A stack for a test module; stopped at its end unless a test stopped it."""
    running = start_stack(state_dir)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            stop_stack(running)

"""`onboarding dev` as a user runs it, as a child process, and the `onboarding` command
beside it: for the end-to-end tests that drive the real stack."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from onboarding.dev.stack import free_port

BIN = Path(sys.executable).parent
SELFIE = Path(__file__).parents[2] / "onboarding" / "assets" / "sample-selfie.jpg"


@dataclass
class Stack:
    process: subprocess.Popen[str]
    env: dict[str, str]
    ports: dict[str, int]
    state_dir: Path

    def onboarding(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "onboarding"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def start_stack(state_dir: Path) -> Stack:
    ports = {name: free_port() for name in ("temporal", "ui", "gateway", "sandbox")}
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
        # As beside `make run`: the CLI finds the stack's dev key and gateway token under
        # the state folder.
        "STATE_DIR": str(state_dir),
    }
    return Stack(process, env, ports, state_dir)


def stop_stack(stack: Stack) -> int:
    stack.process.send_signal(signal.SIGINT)
    return stack.process.wait(60)

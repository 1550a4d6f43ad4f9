"""End to end: a stack on ports of its own, found by another shell through its `env` file;
the exit codes a script branches on; a demo that cannot reach a part of the stack; the
stack's logs as JSON lines.

The stack's state folder is `<dir>/.state`, so that a command run in `<dir>` finds it as a
command run in a checkout finds `make run`'s.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack.sandbox_client import SandboxClient
from devstack.stack import free_port, temporal_binary
from tests.e2e.local_stack import BIN, SELFIE, Stack, start_stack, stop_stack

pytestmark = pytest.mark.e2e

# What names a stack in an environment: none of it may come from the test's own.
STACK_VARIABLES = (
    "TEMPORAL_",
    "GATEWAY_",
    "STATE_DIR",
    "SANDBOX_",
    "GUARDIAN_",
    "CONSOLE_",
    "ONBOARDING_ENCRYPTION_",
)
DEMO_IDS = "WorkflowId STARTS_WITH 'onboarding-demo-'"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack-env")


@pytest.fixture(scope="module")
def stack(home: Path) -> Iterator[Stack]:
    running = start_stack(home / ".state")
    try:
        yield running
    finally:
        if running.process.poll() is None:
            stop_stack(running)


@pytest.fixture(scope="module")
def env_file(stack: Stack) -> Path:
    return stack.state_dir / "env"


def bare_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(STACK_VARIABLES)}


def shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`bash -c command` in `cwd`, with no variable that names a stack."""
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env=bare_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def temporal_count(stack: Stack, query: str) -> int:
    done = subprocess.run(
        [str(temporal_binary()), "workflow", "count", "--query", query, "-o", "json"],
        env={**bare_environment(), "TEMPORAL_ADDRESS": f"127.0.0.1:{stack.ports['temporal']}"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return int(json.loads(done.stdout).get("count", 0))


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_the_stack_writes_its_env_file_and_the_banner_says_to_source_it(
    stack: Stack, env_file: Path
) -> None:
    assert stack.process.stdout is not None
    rest = [stack.process.stdout.readline() for _ in range(13)]
    assert f"  . {shlex.quote(str(env_file))}\n" in rest, "".join(rest)
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    text = env_file.read_text()
    variables = dict(re.findall(r"^export ([A-Z_]+)=(.*)$", text, re.MULTILINE))
    assert variables["TEMPORAL_ADDRESS"] == f"127.0.0.1:{stack.ports['temporal']}"
    assert variables["GATEWAY_URL"] == f"http://127.0.0.1:{stack.ports['gateway']}"
    assert variables["SANDBOX_URL"] == f"http://127.0.0.1:{stack.ports['sandbox']}"
    assert variables["CONSOLE_PUBLIC_URL"] == f"http://127.0.0.1:{stack.ports['console']}"
    assert {"ONBOARDING_ENCRYPTION_KEYS_FILE", "GATEWAY_API_TOKEN_FILE"} <= variables.keys()
    keys = stack.state_dir / "keys"
    for secret in ("gateway-token", "payload-keys", "codec-token"):
        assert (keys / secret).read_text().strip() not in text


def test_a_shell_that_sources_the_file_reaches_this_stack(
    stack: Stack, env_file: Path, tmp_path: Path
) -> None:
    started = stack.onboarding(
        "start", "--cpf", "12345678909", "--name", "Maria Silva", "--selfie", str(SELFIE),
        "--request-id", "env-1", "--wait",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    sourced = shell(
        f". {shlex.quote(str(env_file))} && {BIN}/onboarding status env-1 --json", tmp_path
    )
    assert sourced.returncode == 0, sourced.stderr
    assert json.loads(sourced.stdout)["stage"] == "decided"
    # The same command, in a shell that did not source it, does not find this stack.
    unsourced = shell(f"{BIN}/onboarding status env-1 --json", tmp_path)
    assert unsourced.returncode == 2 and unsourced.stdout == ""


def test_a_command_in_the_stack_s_folder_finds_it_by_itself(stack: Stack, home: Path) -> None:
    done = shell(f"{BIN}/onboarding result env-1 --json", home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outcome"] == "approved"
    # The environment still wins: a Temporal of its own, where nothing listens.
    elsewhere = f"127.0.0.1:{free_port()}"
    mine = shell(f"TEMPORAL_ADDRESS={elsewhere} {BIN}/onboarding result env-1", home)
    assert mine.returncode == 2
    assert f"cannot reach Temporal at {elsewhere}" in one_line(mine.stderr)


def test_status_shows_every_value_in_one_column(stack: Stack) -> None:
    done = stack.onboarding("status", "env-1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) >= 5, done.stdout
    assert len({line.index(": ") for line in lines}) == 1, done.stdout


def test_exit_codes_tell_a_refused_request_from_a_decision(stack: Stack) -> None:
    sandbox = SandboxClient(f"http://127.0.0.1:{stack.ports['sandbox']}")
    selfie = ["--name", "Maria Silva", "--selfie", str(SELFIE)]
    try:
        sandbox.inject({"endpoint": "create", "code": 20507})  # Unico refuses the request
        refused = stack.onboarding(
            "start", "--cpf", "12345678909", *selfie, "--request-id", "env-refused", "--wait",
            "--json",
        )  # fmt: skip
        assert refused.returncode == 1, refused.stderr
        assert json.loads(refused.stdout)["result"]["outcome"] == "invalid_request"
        assert stack.onboarding("result", "env-refused").returncode == 1
        assert stack.onboarding("status", "env-refused").returncode == 0

        sandbox.inject({"endpoint": "create", "code": 20507})
        early = stack.onboarding(
            "start", "--cpf", "12345678909", *selfie, "--wait-decision", "--json"
        )
        assert early.returncode == 1, early.stderr
        assert json.loads(early.stdout)["decision"]["outcome"] == "invalid_request"
    finally:
        sandbox.clear_faults()
    # Any other outcome is a decision: 0, the outcome in the output.
    rejected = stack.onboarding("start", "--cpf", "00000000191", *selfie, "--wait", "--json")
    assert rejected.returncode == 0, rejected.stderr
    assert json.loads(rejected.stdout)["result"]["outcome"] == "rejected"
    assert stack.onboarding("status", "no-such-onboarding").returncode == 2


def demo_without(stack: Stack, setting: str) -> tuple[subprocess.CompletedProcess[str], str]:
    """`onboarding demo` with `setting` pointing at a closed port: its run, and that URL."""
    closed = f"http://127.0.0.1:{free_port()}"
    demo = subprocess.run(
        [str(BIN / "onboarding"), "demo"],
        env={**stack.env, setting: closed},
        capture_output=True,
        text=True,
        timeout=180,
    )
    return demo, closed


def test_a_demo_that_cannot_reach_the_sandbox_says_so_and_starts_nothing(stack: Stack) -> None:
    before = temporal_count(stack, DEMO_IDS)
    demo, closed = demo_without(stack, "SANDBOX_URL")
    assert demo.returncode == 2
    assert f"cannot reach the sandbox at {closed}/" in one_line(demo.stderr)
    assert temporal_count(stack, DEMO_IDS) == before


def test_a_demo_that_cannot_reach_the_console_ends_every_onboarding_it_started(
    stack: Stack,
) -> None:
    demo, closed = demo_without(stack, "CONSOLE_PUBLIC_URL")
    assert demo.returncode == 2
    line = one_line(demo.stderr)
    assert f"cannot reach the reviewers' console at {closed}/" in line
    assert re.search(r"; canceled [1-9]\d* of its onboardings that still ran$", line), line
    # A canceled onboarding ends normally, with outcome `canceled` (its selfie released).
    canceled = int(re.search(r"; canceled (\d+) ", line).group(1))  # type: ignore[union-attr]
    assert temporal_count(stack, f"{DEMO_IDS} AND OnboardingOutcome = 'canceled'") >= canceled
    assert temporal_count(stack, f"{DEMO_IDS} AND ExecutionStatus = 'Running'") == 0
    waiting = stack.onboarding("review", "list", "--json")
    assert json.loads(waiting.stdout) == [], "no review left waiting"


def test_the_logs_are_json_lines_and_the_env_file_goes_with_the_stack(
    stack: Stack, env_file: Path
) -> None:
    assert stop_stack(stack) == 0
    assert not env_file.exists()
    logs = sorted((stack.state_dir / "logs").glob("*.log"))
    assert {log.stem for log in logs} >= {"temporal", "sandbox", "gateway", "worker", "console"}
    for log in logs:
        for number, line in enumerate(log.read_text().splitlines(), 1):
            if line.strip():
                assert isinstance(json.loads(line), dict), f"{log.name}:{number}: {line}"
    temporal = (stack.state_dir / "logs" / "temporal.log").read_text().splitlines()
    assert any(json.loads(line).get("component") == "devstack" for line in temporal)

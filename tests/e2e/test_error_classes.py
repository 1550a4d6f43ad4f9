"""End to end, in real time: representative error classes through `onboarding dev`.

The sandbox's fault rules stand in for Unico's bad days; the `onboarding` command starts the
onboardings and reads their results; the sandbox counts the calls it received. A blocked
onboarding is healed the way an operator would: fix the account, then signal every blocked
onboarding at once with the `temporal` CLI's batch signal (docs/error-classes.md).
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.stack import temporal_binary
from tests.e2e.local_stack import SELFIE, Stack, start_stack, stop_stack
from tests.support import Sandbox

pytestmark = pytest.mark.e2e

COUNTED = ("token_requests", "create_requests", "processes_created")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("errors-stack"))
    try:
        start(running)  # warms the worker's token cache, so that token requests count exactly
        yield running
    finally:
        assert stop_stack(running) == 0


@pytest.fixture
def sandbox(stack: Stack) -> Iterator[Sandbox]:
    unico = Sandbox(f"http://127.0.0.1:{stack.ports['sandbox']}")
    unico.clear_faults()
    yield unico
    unico.clear_faults()


def cli(stack: Stack, *args: str, exit_code: int = 0) -> Any:
    done = stack.onboarding(*args, "--json", timeout=90)
    assert done.returncode == exit_code, done.stderr
    return json.loads(done.stdout)


def start(
    stack: Stack, wait: bool = True, cpf: str = "12345678909", exit_code: int = 0
) -> tuple[str, Any]:
    request_id = f"e2e-{uuid.uuid4().hex[:12]}"
    args = ["start", "--cpf", cpf, "--name", "Maria Silva", "--selfie", str(SELFIE)]
    waiting = ["--wait"] if wait else []
    answer = cli(stack, *args, "--request-id", request_id, *waiting, exit_code=exit_code)
    return request_id, answer.get("result")


def counts(sandbox: Sandbox) -> dict[str, int]:
    stats = sandbox.stats()
    return {key: stats[key] for key in COUNTED}


@pytest.mark.parametrize(
    ("rule", "outcome", "calls"),
    [
        # transient: a 503 burst, retried with backoff by the activity
        ({"endpoint": "create", "status": 503, "code": 99999, "times": 2}, "approved",
         {"token_requests": 0, "create_requests": 3, "processes_created": 1}),
        # rate_limited: retried after Retry-After
        ({"endpoint": "create", "status": 429, "retry_after": 1}, "approved",
         {"token_requests": 0, "create_requests": 2, "processes_created": 1}),
        # token_expired: a new token, then the call again
        ({"endpoint": "create", "code": 10502}, "approved",
         {"token_requests": 1, "create_requests": 2, "processes_created": 1}),
        # invalid_request: Unico's refusal ends the onboarding at once
        ({"endpoint": "create", "code": 20507}, "invalid_request",
         {"token_requests": 0, "create_requests": 1, "processes_created": 0}),
        # recapture: the SDK capture was used before
        ({"endpoint": "create", "code": 10508}, "recapture",
         {"token_requests": 0, "create_requests": 1, "processes_created": 0}),
        # permanent: a request no retry can fix
        ({"endpoint": "create", "code": 20023}, "error",
         {"token_requests": 0, "create_requests": 1, "processes_created": 0}),
        # not_found: Unico does not know the process it created; a new one
        ({"endpoint": "get", "code": 50001}, "approved",
         {"token_requests": 0, "create_requests": 2, "processes_created": 2}),
        # ambiguous create: the request arrived, the answer did not; counted, made again
        ({"endpoint": "create", "drop_connection": True}, "approved",
         {"token_requests": 0, "create_requests": 2, "processes_created": 2}),
    ],
    ids=["transient", "rate_limited", "token_expired", "invalid_request", "recapture",
         "permanent", "not_found", "ambiguous_create"],
)  # fmt: skip
def test_each_class_over_the_real_stack(
    stack: Stack, sandbox: Sandbox, rule: dict[str, Any], outcome: str, calls: dict[str, int]
) -> None:
    sandbox.inject(rule)
    before = counts(sandbox)
    # A GET rule needs a process that is read: this CPF's answers status 1 first.
    cpf = "00000000272" if rule["endpoint"] == "get" else "12345678909"
    # A refused request exits 1 (README, "The `onboarding` command"); any other outcome 0.
    _, result = start(stack, cpf=cpf, exit_code=1 if outcome == "invalid_request" else 0)
    after = counts(sandbox)

    assert result["outcome"] == outcome, result
    assert {key: after[key] - before[key] for key in COUNTED} == calls


def wait_for_stage(stack: Stack, request_id: str, stage: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = cli(stack, "status", request_id)
        if status["stage"] == stage:
            return status
        time.sleep(0.5)
    raise AssertionError(f"{request_id} never reached {stage}")


def test_fixing_the_key_heals_every_blocked_onboarding(stack: Stack, sandbox: Sandbox) -> None:
    sandbox.inject({"endpoint": "create", "code": 10201, "times": None})  # a wrong API key
    blocked = [start(stack, wait=False)[0] for _ in range(2)]
    for request_id in blocked:
        status = wait_for_stage(stack, request_id, "blocked_configuration")
        assert status["blocked_by"]["code"] == "unico.10201"

    sandbox.clear_faults()  # the operator fixes the key, then wakes every blocked onboarding
    signal = subprocess.run(
        [str(temporal_binary()), "workflow", "signal", "--name", "retry_now", "--yes",
         "--query", "OnboardingStage = 'blocked_configuration'",
         "--address", f"127.0.0.1:{stack.ports['temporal']}", "--reason", "API key fixed"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert signal.returncode == 0, signal.stderr
    signaled = time.monotonic()

    results = [cli(stack, "result", request_id) for request_id in blocked]
    assert [result["outcome"] for result in results] == ["approved", "approved"]
    assert time.monotonic() - signaled < 30, "healed by the signal, not by the 60 s timers"

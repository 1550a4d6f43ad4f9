"""`make chaos`: faults injected into the real stack; no onboarding may be lost.

    python -m bench.chaos

One stack of real processes (onboarding/dev/stack.py). Each case starts a batch of onboardings
(the sync and async CPFs of the benchmark's mix), breaks something while they run, and
waits for every one to end. It then checks that each reached the outcome its CPF implies,
and counts the processes the sandbox created against the onboardings: a duplicate can only
come from a create whose answer was lost (the ambiguous-create window), and is counted.
Not a `make test` test: it takes minutes, as kill -9 leaves activities to time out.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.service import RPCError

from onboarding.dev.demo import SAMPLE_SELFIE
from onboarding.dev.scenarios import SCENARIOS
from onboarding.dev.stack import DevStack, wait_for_port
from onboarding.runtime.entry import leave
from onboarding.temporal.client import OnboardingHandle, start_onboarding
from workflows.models import OnboardingRequest

BATCH = ("12345678909", "00000000272", "00000000191", "00000000353") * 2
EXPECTED = {s.cpf: s.expected for s in SCENARIOS}
CASE_TIMEOUT = 180.0  # kill -9 costs a 60 s activity timeout; this bounds each case
READ_TIMEOUT = "2"  # seconds: a delayed answer becomes a timeout quickly

Break = Callable[[DevStack], Awaitable[None]]


@dataclass(frozen=True)
class Row:
    case: str
    onboardings: int
    right: int
    lost: int
    processes: int
    retried_creates: int
    token_calls: int
    seconds: float

    @property
    def duplicates(self) -> int:
        return self.processes - self.onboardings

    @property
    def ok(self) -> bool:
        # A duplicate needs a retried create (one whose answer was lost), never more.
        return (
            self.lost == 0
            and self.right == self.onboardings
            and 0 <= self.duplicates <= self.retried_creates
        )


async def _until(predicate: Callable[[], bool], seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():
            await asyncio.sleep(0.05)


def _kill_worker_during(endpoint: str) -> Break:
    async def act(stack: DevStack) -> None:
        seen = stack.sandbox.stats()[f"{endpoint}_requests"]
        # Hold the answers, so that the kill lands while calls are in flight.
        stack.sandbox.request(
            "POST", "faults", {"endpoint": endpoint, "times": 4, "delay_seconds": 3}
        )
        await _until(lambda: stack.sandbox.stats()[f"{endpoint}_requests"] > seen)
        stack.restart_child("worker", hard=True)
        stack.child("worker").wait_ready()

    return act


async def _restart_server(stack: DevStack) -> None:
    await asyncio.sleep(0.3)  # the batch is mid-flight: created, waiting for Unico
    stack.restart_child("temporal", hard=False)
    wait_for_port(stack.config.ports.temporal, 60, stack.child("temporal"))


def _faults(*rules: dict[str, Any]) -> Break:
    async def act(stack: DevStack) -> None:
        stack.sandbox.inject(*rules)

    return act


async def _short_tokens(stack: DevStack) -> None:
    # Before the batch: the worker's cached token is forgotten by the sandbox (a reset),
    # and the new ones live 2 s, so tokens expire between and during onboardings.
    stack.sandbox.reset()
    stack.sandbox.configure(token_lifetime_seconds=2)


CASES: tuple[tuple[str, Break], ...] = (
    ("kill -9 worker during token", _kill_worker_during("token")),
    ("kill -9 worker during create", _kill_worker_during("create")),
    ("kill -9 worker during polling", _kill_worker_during("get")),
    ("restart dev server (SQLite)", _restart_server),
    (
        "5xx bursts",
        _faults(
            {"endpoint": "create", "times": 4, "status": 503},
            {"endpoint": "get", "times": 4, "status": 500},
        ),
    ),
    (
        "timeouts (answers 3 s late)",
        _faults(
            {"endpoint": "create", "times": 2, "delay_seconds": 3},
            {"endpoint": "get", "times": 3, "delay_seconds": 3},
        ),
    ),
    (
        "429 storm + Retry-After",
        _faults(
            {"endpoint": "create", "times": 12, "status": 429, "retry_after": 1},
            {"endpoint": "get", "times": 12, "status": 429, "retry_after": 1},
        ),
    ),
)
PREPARED: tuple[tuple[str, Break], ...] = (("tokens expiring mid-flow (2 s)", _short_tokens),)


async def run_case(stack: DevStack, name: str, act: Break, *, prepared: bool = False) -> Row:
    """`act` breaks something after the batch starts, or before it when `prepared`."""
    if prepared:
        await act(stack)
    before = stack.sandbox.stats()
    began = time.monotonic()
    handles = [await _start(stack, cpf) for cpf in BATCH]
    if not prepared:
        await act(stack)
    outcomes = await asyncio.gather(*(_outcome(h) for h in handles))
    stack.sandbox.clear_faults()
    stack.sandbox.configure(token_lifetime_seconds=3600)
    after = stack.sandbox.stats()
    created = after["processes_created"] - before["processes_created"]
    # Create calls beyond one per onboarding: refused ones (5xx, 429) and lost answers.
    retried = (after["create_requests"] - before["create_requests"]) - len(BATCH)
    tokens = after["token_requests"] - before["token_requests"]
    right = sum(outcome == EXPECTED[cpf] for cpf, outcome in zip(BATCH, outcomes, strict=True))
    lost = sum(outcome is None for outcome in outcomes)
    seconds = time.monotonic() - began
    return Row(name, len(BATCH), right, lost, created, retried, tokens, seconds)


async def _start(stack: DevStack, cpf: str) -> OnboardingHandle:
    selfie_ref = stack.selfies.put(SAMPLE_SELFIE.read_bytes())  # released when it ends
    request = OnboardingRequest.model_validate(
        {
            "request_id": f"chaos-{uuid.uuid4().hex[:12]}",
            "subject": {"code": cpf, "name": "Pessoa Caos"},
            "selfie_ref": selfie_ref,
            "options": {"poll_initial_seconds": 1, "poll_max_seconds": 2},
        }
    )
    return await start_onboarding(stack.client, request, stack.settings.task_queue)


async def _outcome(handle: OnboardingHandle) -> str | None:
    """The outcome, or None when the onboarding did not end within the case's bound."""
    deadline = time.monotonic() + CASE_TIMEOUT
    while time.monotonic() < deadline:
        try:
            async with asyncio.timeout(deadline - time.monotonic()):
                return str((await handle.result()).outcome)
        except RPCError:  # the server is restarting: ask again
            await asyncio.sleep(1)
        except TimeoutError:
            break
    return None


def table(rows: list[Row]) -> list[str]:
    head = "| case | onboardings | right outcome | lost | processes | duplicates | "
    head += "retried creates | token calls | s | ok |"
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        lines.append(
            f"| {r.case} | {r.onboardings} | {r.right} | {r.lost} | {r.processes} | "
            f"{r.duplicates} | {r.retried_creates} | {r.token_calls} | {r.seconds:.0f} | "
            f"{'yes' if r.ok else 'NO'} |"
        )
    return lines


async def main() -> int:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="chaos-") as work:
        env = {"UNICO_READ_TIMEOUT_SECONDS": READ_TIMEOUT}
        # The server keeps a SQLite file, so that a restart of it loses nothing.
        options = {"async_delay_seconds": 1.0, "settings": env, "database": True}
        async with DevStack.on_free_ports(Path(work), **options) as stack:
            cases = [(n, a, False) for n, a in CASES] + [(n, a, True) for n, a in PREPARED]
            for name, act, prepared in cases:
                rows.append(await run_case(stack, name, act, prepared=prepared))
                print(f"  {name}: {'ok' if rows[-1].ok else 'FAILED'}", flush=True)
    print("\n".join(table(rows)), flush=True)
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    leave(asyncio.run(main()))

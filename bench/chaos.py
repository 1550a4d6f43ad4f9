"""`make chaos`: faults injected into the real stack; no onboarding may be lost.

    python -m bench.chaos

One stack of real processes (devstack/stack.py). Each case starts a batch of onboardings
(the sync and async CPFs of the benchmark's mix), breaks something while they run, and
waits for every one to end. It then checks that each reached the outcome its CPF implies,
and counts the processes the sandbox created against the onboardings: a duplicate can only
come from a create whose answer was lost (a timeout, or a worker killed with the request
out), and each must be counted by its onboarding (`ambiguous_creates`): processes created <=
onboardings + ambiguous creates counted. Not always equal: a worker killed after it claimed
the create but before Unico read the request counts a create that made nothing, which it
cannot tell from one whose answer was lost (counting it is the safe side: a process to
look for in Unico's bill, never one missed).
Every onboarding's selfie must be gone from the store when it ends, whatever broke.

The account cases do the same for the account step: a batch of approved people, each new
to Identity Cloud, who ask for an account while its entity API is broken. Each must end
approved with an account, and Identity Cloud must hold exactly one record per person:
`entity.create` has no idempotency key, so a duplicate would be a real one.
The MFA cases (bench/chaos_mfa.py) play people who type the code from the SMS while
Guardian or the worker breaks: each must end enrolled, once. The capture cases
(bench/chaos_captures.py) lose the create's answer for captures of Unico's SDK, which can be
sent once: each onboarding ends approved or `recapture` (10508, its lost create counted),
with one process each.
Not a `make test` test: it takes minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.service import RPCError

from bench.chaos_captures import CaptureRow, capture_table, run_capture_case
from bench.chaos_mfa import MFA_CASES, MfaRow, mfa_table, run_mfa_case
from devstack import credentials
from devstack.demo import SAMPLE_SELFIE
from devstack.scenarios import SCENARIOS
from devstack.stack import DevStack, wait_for_port
from onboarding.runtime.entry import leave
from onboarding_client.contract.cpf import cpf_with_check_digits
from onboarding_client.contract.names import RETRY_NOW_SIGNAL
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import AccountStatus, OnboardingResult
from onboarding_client.onboardings import OnboardingHandle, start_onboarding

BATCH = ("12345678909", "00000000272", "00000000191", "00000000353") * 2
EXPECTED = {s.cpf: s.expected for s in SCENARIOS}
CASE_TIMEOUT = 180.0  # bounds each case (a kill -9 of the worker costs seconds, not minutes)
READ_TIMEOUT = "2"  # seconds: a delayed answer becomes a timeout quickly

Break = Callable[[DevStack], Awaitable[None]]


@dataclass(frozen=True)
class Row:
    case: str
    onboardings: int
    right: int
    lost: int
    processes: int
    ambiguous: int  # the onboardings' own count of creates whose answer was lost
    retried_creates: int
    token_calls: int
    selfies_left: int  # in the store once every onboarding ended: each must be deleted
    seconds: float

    @property
    def duplicates(self) -> int:
        return self.processes - self.onboardings

    @property
    def ok(self) -> bool:
        # Every duplicate is a create whose answer was lost, and its onboarding says so.
        return (
            self.lost == 0
            and self.right == self.onboardings
            and self.duplicates <= self.ambiguous
            and self.selfies_left == 0
        )


async def _until(predicate: Callable[[], bool], seconds: float = 60) -> None:
    async with asyncio.timeout(seconds):
        while not predicate():
            await asyncio.sleep(0.05)


def _kill_worker_during(endpoint: str, counter: str | None = None) -> Break:
    """`counter`: the sandbox's count of the endpoint's calls (`<endpoint>_requests`)."""
    counted = counter or f"{endpoint}_requests"

    async def act(stack: DevStack) -> None:
        seen = stack.sandbox.stats()[counted]
        # Hold the answers, so that the kill lands while calls are in flight.
        stack.sandbox.request(
            "POST", "faults", {"endpoint": endpoint, "times": 4, "delay_seconds": 3}
        )
        await _until(lambda: stack.sandbox.stats()[counted] > seen)
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
    ("kill -9 worker during the read", _kill_worker_during("get")),
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
CAPTURE_CASES: tuple[tuple[str, Break], ...] = (
    (
        "captures: create answers dropped",
        _faults({"endpoint": "create", "times": 4, "drop_connection": True}),
    ),
    ("captures: kill -9 worker during create", _kill_worker_during("create")),
)


# --- the account step ---------------------------------------------------------------------

ACCOUNT_BATCH = 8
_people = iter(range(700_000_000, 800_000_000, 7919))  # distinct for the whole run


@dataclass(frozen=True)
class AccountRow:
    case: str
    onboardings: int
    right: int  # approved, with an account registered
    lost: int
    records: int  # records Identity Cloud holds for these people
    adopted: int  # a record an earlier attempt made, found by the CPF and adopted
    create_calls: int
    seconds: float

    @property
    def duplicates(self) -> int:
        return self.records - self.onboardings

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.right == self.onboardings and self.duplicates == 0


AccountBreak = Callable[[DevStack, list[OnboardingHandle]], Awaitable[None]]


def _kill_worker_during_create() -> AccountBreak:
    async def act(stack: DevStack, handles: list[OnboardingHandle]) -> None:
        await _kill_worker_during("entity.create", "entity_create_requests")(stack)

    return act


def _account_faults(*rules: dict[str, Any]) -> AccountBreak:
    async def act(stack: DevStack, handles: list[OnboardingHandle]) -> None:
        stack.sandbox.inject(*rules)

    return act


async def _rotate_secret(stack: DevStack, handles: list[OnboardingHandle]) -> None:
    """Identity Cloud takes a new client secret; the workers still send the old one and
    block (402). The operator writes the new one to the secret's file and sends retry_now."""
    rotated = f"rotated-{uuid.uuid4().hex}"
    refused = stack.sandbox.stats()["by_code"].get("402", 0)
    stack.sandbox.configure(identity_cloud_client_secret=rotated)
    await _until(lambda: stack.sandbox.stats()["by_code"].get("402", 0) > refused, 60)
    credentials.identity_cloud_secret(stack.config.keys_dir).write_text(rotated)
    await asyncio.sleep(1)
    for handle in handles:
        with contextlib.suppress(RPCError):  # one that ended already
            await handle.signal(RETRY_NOW_SIGNAL)


ACCOUNT_CASES: tuple[tuple[str, AccountBreak], ...] = (
    ("kill -9 worker during entity.create", _kill_worker_during_create()),
    (
        "dropped connections after the record was made",
        _account_faults({"endpoint": "entity.create", "times": 4, "drop_connection": True}),
    ),
    (
        "510 storm",
        _account_faults({"endpoint": "entity.create", "times": 16, "code": 510}),
    ),
    ("client secret rotated mid-run", _rotate_secret),
)


async def run_account_case(stack: DevStack, name: str, act: AccountBreak) -> AccountRow:
    before = stack.sandbox.stats()
    began = time.monotonic()
    people = [cpf_with_check_digits(f"{next(_people):09d}") for _ in range(ACCOUNT_BATCH)]
    handles = [(await _start(stack, cpf, register=True))[0] for cpf in people]
    await act(stack, handles)
    results = await asyncio.gather(*(_result(h) for h in handles))
    stack.sandbox.clear_faults()
    after = stack.sandbox.stats()
    held = [r for r in stack.sandbox.records() if r.get("cpf") in set(people)]
    right = sum(
        r is not None
        and r.outcome == "approved"
        and r.account is not None
        and r.account.status is AccountStatus.REGISTERED
        for r in results
    )
    adopted = sum(
        r is not None and r.account is not None and r.account.reason is not None for r in results
    )
    creates = after["entity_create_requests"] - before["entity_create_requests"]
    lost = sum(r is None for r in results)
    seconds = time.monotonic() - began
    return AccountRow(name, len(people), right, lost, len(held), adopted, creates, seconds)


async def _result(handle: OnboardingHandle) -> OnboardingResult | None:
    """The result, or None when the onboarding did not end within the case's bound."""
    deadline = time.monotonic() + CASE_TIMEOUT
    while time.monotonic() < deadline:
        try:
            async with asyncio.timeout(deadline - time.monotonic()):
                return await handle.result()
        except RPCError:  # the server is restarting: ask again
            await asyncio.sleep(1)
        except TimeoutError:
            break
    return None


def account_table(rows: list[AccountRow]) -> list[str]:
    head = "| case | onboardings | right outcome | lost | records | duplicates | adopted | "
    head += "entity.create calls | s | ok |"
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        lines.append(
            f"| {r.case} | {r.onboardings} | {r.right} | {r.lost} | {r.records} | "
            f"{r.duplicates} | {r.adopted} | {r.create_calls} | {r.seconds:.0f} | "
            f"{'yes' if r.ok else 'NO'} |"
        )
    return lines


async def run_case(stack: DevStack, name: str, act: Break, *, prepared: bool = False) -> Row:
    """`act` breaks something after the batch starts, or before it when `prepared`."""
    if prepared:
        await act(stack)
    before = stack.sandbox.stats()
    began = time.monotonic()
    # The break is armed as the batch starts (its faults in place, its counters read), so
    # it meets the batch's first calls however fast they come: the token is got in the
    # create's own activity now, within milliseconds of the start.
    acting: asyncio.Future[None] | None = None if prepared else asyncio.ensure_future(act(stack))
    await asyncio.sleep(0.2)
    started = [await _start(stack, cpf) for cpf in BATCH]
    handles = [handle for handle, _ in started]
    if acting is not None:
        await acting
    results = await asyncio.gather(*(_result(h) for h in handles))
    outcomes = [None if result is None else str(result.outcome) for result in results]
    ambiguous = sum(result.ambiguous_creates for result in results if result is not None)
    stack.sandbox.clear_faults()
    stack.sandbox.configure(token_lifetime_seconds=3600)
    after = stack.sandbox.stats()
    created = after["processes_created"] - before["processes_created"]
    # Create calls beyond one per onboarding: refused ones (5xx, 429) and lost answers.
    retried = (after["create_requests"] - before["create_requests"]) - len(BATCH)
    tokens = after["token_requests"] - before["token_requests"]
    right = sum(outcome == EXPECTED[cpf] for cpf, outcome in zip(BATCH, outcomes, strict=True))
    lost = sum(outcome is None for outcome in outcomes)
    left = sum(stack.selfies.exists(ref) for _, ref in started)
    seconds = time.monotonic() - began
    return Row(name, len(BATCH), right, lost, created, ambiguous, retried, tokens, left, seconds)


async def _start(stack: DevStack, cpf: str, register: bool = False) -> tuple[OnboardingHandle, str]:
    """The onboarding started, and its selfie's reference in the store."""
    selfie_ref = stack.selfies.put(SAMPLE_SELFIE.read_bytes())  # released when it ends
    options: dict[str, Any] = {"poll_initial_seconds": 1, "poll_max_seconds": 2}
    subject = {"code": cpf, "name": "Pessoa Caos"}
    if register:
        options["account"] = {"register": True}
        subject["email"] = f"caos.{cpf}@example.com"
    request = OnboardingRequest.model_validate(
        {
            "request_id": f"chaos-{uuid.uuid4().hex[:12]}",
            "subject": subject,
            "selfie_ref": selfie_ref,
            "options": options,
        }
    )
    return await start_onboarding(stack.client, request, stack.settings.task_queue), selfie_ref


def table(rows: list[Row]) -> list[str]:
    head = "| case | onboardings | right outcome | lost | processes | duplicates | "
    head += "ambiguous counted | retried creates | token calls | selfies left | s | ok |"
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r.case} | {r.onboardings} | {r.right} | {r.lost} | {r.processes} | "
            f"{r.duplicates} | {r.ambiguous} | {r.retried_creates} | {r.token_calls} | "
            f"{r.selfies_left} | "
            f"{r.seconds:.0f} | {'yes' if r.ok else 'NO'} |"
        )
    return lines


async def main(only: str | None = None) -> int:
    """Every case, or the cases of one part: `identity`, `capture`, `account` or `mfa`."""
    rows: list[Row] = []
    capture_rows: list[CaptureRow] = []
    account_rows: list[AccountRow] = []
    mfa_rows: list[MfaRow] = []
    with tempfile.TemporaryDirectory(prefix="chaos-") as work:
        env = {"UNICO_READ_TIMEOUT_SECONDS": READ_TIMEOUT}
        # The server keeps a SQLite file, so that a restart of it loses nothing.
        options = {"async_delay_seconds": 1.0, "settings": env, "database": True}
        async with DevStack.on_free_ports(Path(work), **options) as stack:
            cases = [(n, a, False) for n, a in CASES] + [(n, a, True) for n, a in PREPARED]
            for name, act, prepared in cases if only in (None, "identity") else []:
                rows.append(await run_case(stack, name, act, prepared=prepared))
                print(f"  {name}: {'ok' if rows[-1].ok else 'FAILED'}", flush=True)
            for name, act in CAPTURE_CASES if only in (None, "capture") else ():
                capture_rows.append(await run_capture_case(stack, name, act, _result))
                print(f"  {name}: {'ok' if capture_rows[-1].ok else 'FAILED'}", flush=True)
            for name, account_act in ACCOUNT_CASES if only in (None, "account") else ():
                account_rows.append(await run_account_case(stack, name, account_act))
                print(f"  {name}: {'ok' if account_rows[-1].ok else 'FAILED'}", flush=True)
            for name, mfa_act in MFA_CASES if only in (None, "mfa") else ():
                mfa_rows.append(await run_mfa_case(stack, name, mfa_act))
                print(f"  {name}: {'ok' if mfa_rows[-1].ok else 'FAILED'}", flush=True)
    print("\n".join(table(rows)), flush=True)
    print("\nCaptures of Unico's SDK (one use each):", flush=True)
    print("\n".join(capture_table(capture_rows)), flush=True)
    print("\nThe account step (Identity Cloud):", flush=True)
    print("\n".join(account_table(account_rows)), flush=True)
    print("\nThe MFA step (Auth0 and Guardian):", flush=True)
    print("\n".join(mfa_table(mfa_rows)), flush=True)
    checked = [r.ok for r in rows] + [r.ok for r in capture_rows]
    checked += [r.ok for r in account_rows] + [r.ok for r in mfa_rows]
    return 0 if all(checked) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.chaos")
    parser.add_argument("only", nargs="?", choices=("identity", "capture", "account", "mfa"))
    leave(asyncio.run(main(parser.parse_args().only)))

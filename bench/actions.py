"""Billable Temporal actions per onboarding, by kind, against the least the job needs.

Runs each path of the scenario mix and each journey step on a stack of its own, exports
every history and scores it by Temporal Cloud's rules (devstack/actions.py):

- sync (12345678909, Unico answers at once) and webhook (00000000272, Unico scores a second
  later and says so by webhook), the two paths of the mix; rejected (00000000191) and
  review (00000000353) take the sync path;
- the journey's steps, each reported as what it adds to its path: a review settled by
  update (to a webhook onboarding: 00000000353 is scored after a second), an account
  registered and an MFA enrollment with the person's code (to a sync one).

The least each needs, said once here: a sync onboarding must start (1), call Unico (1: the
create, with the selfie check and the token before any request leaves, and the selfie's
delete once Unico has settled the process) and let operators find the outcome (1 upsert): 3.
A webhook onboarding adds the wait (1 timer), Unico's signal (1), the read it asks for (1:
the selfie goes with it) and a searchable `waiting` (1): 7, at any delay of Unico's scoring
with the webhook on (the first read waits for it: DELAYS). The targets, 4 and 8, date from
when the selfie's delete was a command of its own. The review adds the reviewer's update, a
searchable `awaiting_review` with its deadline and the deadline's timer: 3; and since the
console, the claim of the reviewer who opens the case (1 update) and the evidence's deletion
at the end (1 local activity): 5. The account adds
its create: 1. MFA adds the enrollment (1 activity), a searchable `awaiting_otp` (1), the
deadline's timer (1), the person's update (1) and its check (1): 5.

    python -m bench actions
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench.result import BenchResult
from bench.stack import bench_stack
from devstack.actions import KINDS, billable_actions
from devstack.console_client import REVIEWER, ConsoleUser
from devstack.demo import SAMPLE_SELFIE
from devstack.history import events_of
from devstack.stack import DevStack
from devstack.watch import until_stage
from onboarding.temporal.otp import submit_code
from onboarding_client.contract.cpf import cpf_with_check_digits
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.status import Stage
from onboarding_client.onboardings import start_onboarding

NAME = "actions"
# Unico's scoring delays the webhook path is measured at: the sandbox's default, `make run`'s,
# and a minute. With the webhook on, the first read waits for it: the same cost at each.
DELAYS = (1.0, 5.0, 60.0)
WEBHOOK_AT_ANY_DELAY = {"actions": 7, "unico_calls": 2}
ROUNDS = 3  # each path's count is the same every time; the median guards a retry's noise
MINIMUM = {"sync": 3, "webhook": 7, "review step": 5, "account step": 1, "mfa step": 5}
TARGETS = {"sync": 3, "webhook": 7}
SYNC_UNICO_CALLS = 1  # the create, which answers the result
MIX = {"sync": "12345678909", "webhook": "00000000272", "rejected": "00000000191"}
# The path each step is added to: 00000000353 (score 28) waits for Unico's webhook first.
BASES = {"review step": "webhook", "account step": "sync", "mfa step": "sync"}


async def one(stack: DevStack, path: str, n: int) -> Counter[str]:
    """The actions of one onboarding of `path`, every run of it counted."""
    cpf = MIX.get(path, "12345678909")
    options: dict[str, Any] = {}
    subject: dict[str, str] = {}
    if path == "review step":
        cpf, options = "00000000353", {"review": {"enabled": True}}
    elif path == "account step":
        cpf = cpf_with_check_digits(f"{600_000_000 + n * 7919:09d}")
        options = {"account": {"register": True}}
    elif path == "mfa step":
        options = {"mfa": {"enroll": True, "user_id": f"auth0|bench-{uuid.uuid4().hex[:8]}"}}
        subject = {"phone": f"11966{n:05d}5"}  # never a test phone's ending
    request = OnboardingRequest.model_validate(
        {
            "request_id": f"bench-actions-{uuid.uuid4().hex[:12]}",
            "subject": {"code": cpf, "name": "Pessoa Bench", **subject},
            "selfie_ref": stack.selfies.put(SAMPLE_SELFIE.read_bytes()),
            "options": options,
        }
    )
    handle = await start_onboarding(stack.client, request, stack.settings.task_queue)
    if path == "review step":
        await until_stage(handle, Stage.AWAITING_REVIEW, seconds=None, poll=0.2)
        async with ConsoleUser(stack.console_url) as reviewer:  # the console's path
            await reviewer.log_in(*REVIEWER)
            await reviewer.answer(request.request_id, "approved", "documents.match")
    elif path == "mfa step":
        await until_stage(handle, Stage.AWAITING_OTP, seconds=None, poll=0.2)
        code = stack.sandbox.last_code(f"+55{subject['phone']}")
        await submit_code(stack.client, request.request_id, code)
    # The bench's own status queries would be billed too: they are not counted, as an app
    # that waits on the update's answer needs none.
    await handle.result()
    return billable_actions(await events_of(handle))


def median_counts(runs: list[Counter[str]]) -> Counter[str]:
    return Counter({k: sorted(r[k] for r in runs)[len(runs) // 2] for k in KINDS})


async def run(work: Path) -> BenchResult:
    # The production default for the webhook's wait, not the local stack's short one.
    settings = {"UNICO_WEBHOOK_FIRST_READ_SECONDS": "120"}
    async with bench_stack(work, async_delay_seconds=1.0, settings=settings) as stack:
        paths = ["sync", "webhook", "rejected", "review step", "account step", "mfa step"]
        counted, sync_calls = {}, 0.0
        for path in paths:
            before = stack.sandbox.stats()
            runs = [await one(stack, path, n) for n in range(ROUNDS)]
            counted[path] = median_counts(runs)
            if path == "sync":
                sync_calls = unico_calls(before, stack.sandbox.stats()) / ROUNDS
        by_delay = {delay: await webhook_at(stack, delay) for delay in DELAYS}
    return report(counted, sync_calls, by_delay)


def unico_calls(before: dict[str, Any], after: dict[str, Any]) -> int:
    """Process-API calls the sandbox received between two readings: creates and reads."""
    return sum(after[k] - before[k] for k in ("create_requests", "get_requests"))


async def webhook_at(stack: DevStack, delay: float) -> dict[str, float]:
    """The webhook path with Unico scoring for `delay` seconds: actions (median) and Unico
    calls (creates and reads the sandbox received) per onboarding, ROUNDS at once."""
    stack.sandbox.configure(async_delay_seconds=delay)
    before = stack.sandbox.stats()
    runs = await asyncio.gather(*(one(stack, "webhook", n) for n in range(ROUNDS)))
    return {
        "actions": sum(median_counts(list(runs)).values()),
        "unico_calls": unico_calls(before, stack.sandbox.stats()) / ROUNDS,
    }


def report(
    counted: dict[str, Counter[str]], sync_calls: float, by_delay: dict[float, dict[str, float]]
) -> BenchResult:
    lines = ["billable actions per onboarding (Temporal Cloud's rules), median of 3 each"]
    head = f"{'path':<14}" + "".join(f"{k:>11}" for k in KINDS) + f"{'total':>8}{'least':>7}"
    lines += [head, "-" * len(head)]
    figures: dict[str, Any] = {}
    for path, counts in counted.items():
        own = counts - counted[BASES[path]] if path in BASES else counts  # the step's own
        total = sum(own.values())
        figures[path] = {"by_kind": {k: own[k] for k in KINDS}, "total": total}
        least = MINIMUM.get(path, MINIMUM["sync"])
        figures[path]["least"] = least
        cells = "".join(f"{own[k]:>11}" for k in KINDS)
        lines.append(f"{path:<14}{cells}{total:>8}{least:>7}")
    met = all(figures[path]["total"] <= limit for path, limit in TARGETS.items())
    lines.append("journey steps: what each adds to its path (review: webhook; others: sync)")
    lines.append(f"target: sync <= {TARGETS['sync']}, webhook <= {TARGETS['webhook']}")
    calls_ok = sync_calls <= SYNC_UNICO_CALLS
    met &= calls_ok
    lines.append(
        f"Unico calls per sync onboarding: {sync_calls:g} (target {SYNC_UNICO_CALLS})"
        f"{'' if calls_ok else '  MISSED'}"
    )
    figures["sync_unico_calls"] = sync_calls
    want_actions, want_calls = WEBHOOK_AT_ANY_DELAY["actions"], WEBHOOK_AT_ANY_DELAY["unico_calls"]
    lines.append("the webhook path at each delay of Unico's scoring (median actions, calls each)")
    for delay, measured in by_delay.items():
        ok = measured["actions"] <= want_actions and measured["unico_calls"] <= want_calls
        met &= ok
        lines.append(
            f"  scored after {delay:>4g} s: {measured['actions']:g} actions (target "
            f"{want_actions}), {measured['unico_calls']:g} Unico calls (target {want_calls})"
            f"{'' if ok else '  MISSED'}"
        )
    figures["webhook_by_delay"] = {f"{delay:g}": m for delay, m in by_delay.items()}
    return BenchResult(NAME, figures, lines, target_met=met)

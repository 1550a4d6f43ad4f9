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
the selfie goes with it) and a searchable `waiting` (1): 7. The targets, 4 and 8, date from
when the selfie's delete was a command of its own. The review adds the reviewer's update, a
searchable `awaiting_review` with its deadline and the deadline's timer: 3. The account adds
its create: 1. MFA adds the enrollment (1 activity), a searchable `awaiting_otp` (1), the
deadline's timer (1), the person's update (1) and its check (1): 5.

    python -m bench actions
"""

from __future__ import annotations

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
ROUNDS = 3  # each path's count is the same every time; the median guards a retry's noise
MINIMUM = {"sync": 3, "webhook": 7, "review step": 3, "account step": 1, "mfa step": 5}
TARGETS = {"sync": 4, "webhook": 8}
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
    async with bench_stack(work, async_delay_seconds=1.0) as stack:
        paths = ["sync", "webhook", "rejected", "review step", "account step", "mfa step"]
        counted = {}
        for path in paths:
            runs = [await one(stack, path, n) for n in range(ROUNDS)]
            counted[path] = median_counts(runs)
    return report(counted)


def report(counted: dict[str, Counter[str]]) -> BenchResult:
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
    return BenchResult(NAME, figures, lines, target_met=met)

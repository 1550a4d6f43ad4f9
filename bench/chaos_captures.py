"""`make chaos`'s capture cases: captures of Unico's SDK whose create answer is lost.

A capture is good for one use, so a create sent again after a lost answer meets 10508: the
first create made a process that the worker cannot find. Each case starts a batch of
onboardings, each with its own live capture (made by the sandbox's capture SDK) for a CPF
that Unico approves at once, breaks the create's answers, and checks per onboarding:

- an onboarding whose create was answered ends approved, with no ambiguous create;
- one whose answer was lost ends `recapture` with `unico.10508`, its lost create counted
  (`ambiguous_creates` >= 1): the person is asked for a new capture, never left waiting;
- Unico made exactly one process per onboarding (a 10508 makes none), and no selfie or
  preview is left in the store.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from devstack.demo import LIVE_CPF, SAMPLE_SELFIE
from devstack.stack import DevStack
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.onboardings import OnboardingHandle, start_onboarding

CAPTURE_BATCH = 8
LOST = "unico.10508"

CaptureBreak = Callable[[DevStack], Awaitable[None]]
Result = Callable[[OnboardingHandle], Awaitable[OnboardingResult | None]]


@dataclass(frozen=True)
class CaptureRow:
    case: str
    onboardings: int
    approved: int  # answered at once, nothing lost
    recaptured: int  # a lost answer, then 10508, counted
    wrong: int  # any other outcome, or an outcome that does not match its count
    lost: int
    processes: int
    ambiguous: int
    create_calls: int
    selfies_left: int
    seconds: float

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.wrong == 0
            and self.approved + self.recaptured == self.onboardings
            and self.recaptured > 0  # the break met the batch
            and self.processes == self.onboardings
            and self.selfies_left == 0
        )


def _verdict(result: OnboardingResult) -> str:
    """approved, recaptured or wrong, by the rules above."""
    codes = [reason.code for reason in result.reasons]
    if result.outcome is Outcome.APPROVED and result.ambiguous_creates == 0:
        return "approved"
    if result.outcome is Outcome.RECAPTURE and codes == [LOST] and result.ambiguous_creates >= 1:
        return "recaptured"
    return "wrong"


async def run_capture_case(
    stack: DevStack, name: str, act: CaptureBreak, result_of: Result
) -> CaptureRow:
    before = stack.sandbox.stats()
    began = time.monotonic()
    acting = asyncio.ensure_future(act(stack))  # armed as the batch starts
    await asyncio.sleep(0.2)
    started = [await _start(stack) for _ in range(CAPTURE_BATCH)]
    await acting
    results = await asyncio.gather(*(result_of(handle) for handle, _ in started))
    stack.sandbox.clear_faults()
    after = stack.sandbox.stats()
    verdicts = [None if r is None else _verdict(r) for r in results]
    left = sum(
        stack.selfies.exists(ref) or _has_preview(stack, ref) for _, ref in started
    )  # fmt: skip
    return CaptureRow(
        case=name,
        onboardings=CAPTURE_BATCH,
        approved=verdicts.count("approved"),
        recaptured=verdicts.count("recaptured"),
        wrong=verdicts.count("wrong"),
        lost=verdicts.count(None),
        processes=after["processes_created"] - before["processes_created"],
        ambiguous=sum(r.ambiguous_creates for r in results if r is not None),
        create_calls=after["create_requests"] - before["create_requests"],
        selfies_left=left,
        seconds=time.monotonic() - began,
    )


def _has_preview(stack: DevStack, ref: str) -> bool:
    try:
        stack.selfies.get_preview(ref)
    except LookupError:
        return False
    return True


async def _start(stack: DevStack) -> tuple[OnboardingHandle, str]:
    """An onboarding with its own live capture and, beside it, the image the person saw."""
    image = SAMPLE_SELFIE.read_bytes()
    order = {"image_base64": base64.b64encode(image).decode(), "liveness": "live"}
    made = await asyncio.to_thread(stack.sandbox.request, "POST", "captures", order)
    selfie_ref = stack.selfies.put(str(made["capture"]).encode("ascii"))
    stack.selfies.put_preview(selfie_ref, image)
    request = OnboardingRequest.model_validate(
        {
            "request_id": f"chaos-capture-{uuid.uuid4().hex[:12]}",
            "subject": {"code": LIVE_CPF, "name": "Pessoa Caos"},
            "selfie_ref": selfie_ref,
            "options": {"poll_initial_seconds": 1, "poll_max_seconds": 2},
        }
    )
    return await start_onboarding(stack.client, request, stack.settings.task_queue), selfie_ref


def capture_table(rows: list[CaptureRow]) -> list[str]:
    head = "| case | onboardings | approved | recapture (10508) | other outcome | lost | "
    head += "processes | ambiguous counted | create calls | selfies left | s | ok |"
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r.case} | {r.onboardings} | {r.approved} | {r.recaptured} | {r.wrong} | "
            f"{r.lost} | {r.processes} | {r.ambiguous} | {r.create_calls} | "
            f"{r.selfies_left} | {r.seconds:.0f} | {'yes' if r.ok else 'NO'} |"
        )
    return lines

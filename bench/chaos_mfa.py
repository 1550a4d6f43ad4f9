"""`make chaos`'s MFA cases: people enrolling their phone while Guardian or the worker breaks.

Each case starts a batch of approved onboardings that ask for MFA (each person with their
own Auth0 user and phone), and plays each person: wait for the SMS, read the code from the
sandbox's inbox, send it with update `submit_otp`; on `mfa.unavailable` (Guardian did not
answer in time: nothing was decided) send it again a moment later, as an app would; on an
expired transaction ask for another SMS. It counts what the people saw (answers, retryable
errors) and the enrollments Guardian holds: one per person, never two.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client

from activities.guardian.enrollments import e164
from contracts.mfa import UNAVAILABLE
from devstack.demo import SAMPLE_SELFIE
from devstack.stack import DevStack
from onboarding.temporal.otp import resend_code, submit_code
from onboarding.temporal.step_updates import UpdateRefused
from onboarding_client.contract.names import STATUS_QUERY
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import MfaStatus
from onboarding_client.contract.status import OnboardingStatus, Stage
from onboarding_client.onboardings import OnboardingHandle, start_onboarding

MFA_BATCH = 8
PERSON_TIMEOUT = 180.0  # kill -9 costs an activity timeout (10 s for the person's calls)
_phones = itertools.count(1000)


@dataclass
class Person:
    handle: OnboardingHandle
    request_id: str
    phone: str  # as Guardian receives it
    answers: int = 0  # updates answered (accepted, a wrong code, not sent)
    retryable: int = 0  # `mfa.unavailable`: sent again
    resends_refused: int = 0  # `too_many_sms` answered: the person waits, no blind retry
    status: MfaStatus | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MfaRow:
    case: str
    onboardings: int
    enrolled: int
    lost: int
    enrollments: int  # Guardian's, for these people
    answered: int
    retryable: int
    resends_refused: int
    verify_calls: int
    seconds: float

    @property
    def duplicates(self) -> int:
        return self.enrollments - self.enrolled

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.enrolled == self.onboardings
            and self.enrollments == self.onboardings
        )


MfaBreak = Callable[[DevStack, list[Person]], Awaitable[None]]


def _faults(*rules: dict[str, Any]) -> MfaBreak:
    async def act(stack: DevStack, people: list[Person]) -> None:
        stack.sandbox.inject(*rules)

    return act


async def _kill_worker_during_verify(stack: DevStack, people: list[Person]) -> None:
    """Hold the confirmations, and kill the worker while some are in flight: Guardian
    confirmed them, and the answers die with the worker."""
    seen = stack.sandbox.stats()["verify_otp_requests"]
    stack.sandbox.inject({"endpoint": "verify-otp", "times": 4, "delay_seconds": 3})
    async with asyncio.timeout(120):
        while stack.sandbox.stats()["verify_otp_requests"] <= seen:
            await asyncio.sleep(0.05)
    stack.restart_child("worker", hard=True)
    stack.child("worker").wait_ready()


MFA_CASES: tuple[tuple[str, MfaBreak], ...] = (
    ("kill -9 worker while codes are verified", _kill_worker_during_verify),
    (
        "Guardian 5xx storm",
        _faults(
            {"endpoint": "sms-enroll", "times": 6, "status": 503},
            {"endpoint": "verify-otp", "times": 10, "status": 503},
        ),
    ),
    (
        "SMS limit storm (too_many_sms)",
        _faults({"endpoint": "sms-enroll", "times": 12, "code": "too_many_sms", "retry_after": 1}),
    ),
)


async def run_mfa_case(stack: DevStack, name: str, act: MfaBreak) -> MfaRow:
    before = stack.sandbox.stats()
    began = time.monotonic()
    people = [await _start(stack) for _ in range(MFA_BATCH)]
    await asyncio.gather(act(stack, people), *(play(stack, person) for person in people))
    stack.sandbox.clear_faults()
    phones = {person.phone for person in people}
    enrollments = [e for e in stack.sandbox.enrollments() if e["phone"] in phones]
    verify_calls = stack.sandbox.stats()["verify_otp_requests"] - before["verify_otp_requests"]
    return MfaRow(
        name,
        len(people),
        sum(p.status is MfaStatus.ENROLLED for p in people),
        sum(p.status is None for p in people),
        len(enrollments),
        sum(p.answers for p in people),
        sum(p.retryable for p in people),
        sum(p.resends_refused for p in people),
        verify_calls,
        time.monotonic() - began,
    )


async def _start(stack: DevStack) -> Person:
    digits = f"11977{next(_phones):06d}"
    request = OnboardingRequest.model_validate(
        {
            "request_id": f"chaos-mfa-{uuid.uuid4().hex[:12]}",
            "subject": {"code": "12345678909", "name": "Pessoa Caos", "phone": digits},
            "selfie_ref": stack.selfies.put(SAMPLE_SELFIE.read_bytes()),
            "options": {
                "mfa": {"enroll": True, "user_id": f"auth0|chaos-{digits}", "deadline_seconds": 600}
            },
        }
    )
    handle = await start_onboarding(stack.client, request, stack.settings.task_queue)
    return Person(handle, request.request_id, e164(digits))


async def play(stack: DevStack, person: Person) -> None:
    """The person, until the step ends or the case's bound passes (then: lost)."""
    try:
        async with asyncio.timeout(PERSON_TIMEOUT):
            await _until_awaiting(person)
            while not await _send_the_code(stack, person):
                pass
            result = await person.handle.result()
            person.status = result.mfa.status if result.mfa else None
    except TimeoutError:
        person.notes.append("timed out")


async def _until_awaiting(person: Person) -> None:
    while True:
        try:
            status = await person.handle.query(STATUS_QUERY, result_type=OnboardingStatus)
        except Exception:  # the worker is restarting: ask again
            status = None
        if status is not None and status.stage in (Stage.AWAITING_OTP, Stage.DECIDED):
            return
        await asyncio.sleep(0.2)


async def _send_the_code(stack: DevStack, person: Person) -> bool:
    """One try; True once the conversation is over (the result says how it ended)."""
    messages = stack.sandbox.sms(person.phone)
    if not messages:
        await _resend(stack.client, person)
        await asyncio.sleep(1)
        return False
    try:
        answer = await submit_code(stack.client, person.request_id, messages[-1]["code"])
    except UpdateRefused as refused:
        if refused.code != UNAVAILABLE:
            return True  # the step ended meanwhile
        person.retryable += 1
        await asyncio.sleep(1)
        return False
    person.answers += 1
    if answer.reason == "transaction_expired":
        await _resend(stack.client, person)
    return answer.accepted or answer.attempts_left == 0


async def _resend(client: Client, person: Person) -> None:
    try:
        sent = await resend_code(client, person.request_id)
    except UpdateRefused as refused:
        if refused.code == UNAVAILABLE:
            person.retryable += 1
        return
    person.answers += 1
    if sent.reason and sent.reason.startswith("too_many_sms"):
        person.resends_refused += 1


def mfa_table(rows: list[MfaRow]) -> list[str]:
    head = "| case | onboardings | enrolled | lost | enrollments | duplicates | answered | "
    head += "retryable errors | resends refused | verify-otp calls | s | ok |"
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        lines.append(
            f"| {r.case} | {r.onboardings} | {r.enrolled} | {r.lost} | {r.enrollments} | "
            f"{r.duplicates} | {r.answered} | {r.retryable} | {r.resends_refused} | "
            f"{r.verify_calls} | {r.seconds:.0f} | {'yes' if r.ok else 'NO'} |"
        )
    return lines

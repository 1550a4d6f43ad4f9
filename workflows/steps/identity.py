"""The identity step: create the Unico process, wait for it, decide.

`open_process` checks the selfie as Unico would and creates the process (a refused image
ends the onboarding `invalid_request`, no call made). Status 3 is decided at once; status 1
or 2 waits on a durable timer that Unico's webhook cuts short, then `read_process` reads it
again, until a final status or the onboarding's deadline. The call whose answer settles the
process releases the selfie on the way back. `policy.decide` decides; a decision that asks
for a new process gets one while attempts remain. A long wait continues as new.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, NoReturn, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.selfies import SelfieRelease
    from contracts.unico import (
        CreateProcessInput,
        ProcessStatus,
        ReadProcessInput,
        SelfieCheck,
        UnicoProcess,
        open_process,
        read_process,
    )
    from onboarding_client.contract.errors import ErrorClass
    from onboarding_client.contract.names import PROCESS_ATTRIBUTE
    from onboarding_client.contract.outcome import Outcome
    from onboarding_client.contract.request import OnboardingOptions, OnboardingRequest
    from onboarding_client.contract.result import OnboardingResult
    from onboarding_client.contract.review import ReviewSignals
    from onboarding_client.contract.status import Carry, Stage
    from workflows.calls import STEP_CALL, CallFailed, DeadlinePassed, durable_sleep
    from workflows.journey import Journey
    from workflows.policy import decide, review_signals
    from workflows.reactions import Remedy

T = TypeVar("T")

# A waiting `decision` update postpones a suggested continue-as-new (it would fail the
# update), but not past this many events: then it goes, and the client asks the new run.
DEFER_CONTINUE_AS_NEW_UNTIL_EVENTS = 20_000
# A capture the create refused before any call as Unico would (10507: past its 10 minutes).
RECAPTURE_CODES = {10507: Outcome.RECAPTURE}
# Unico's calls beat every second: a worker killed with one out is seen within 5 s, and the
# call retried then, where the 60 s attempt timeout alone kept it waiting a minute.
UNICO_CALL = dataclasses.replace(STEP_CALL, heartbeat=timedelta(seconds=5))


class IdentityStep:
    def __init__(self, journey: Journey) -> None:
        self._journey = journey
        self._status = journey.progress.status
        self._calls = journey.calls_until(0.0)  # the onboarding's deadline, once known
        self._woken = False  # Unico's webhook came: read the process now
        self._delay = 0.0  # the next wait between reads
        self._webhook_wait: float | None = None  # the deployment's wait for Unico's webhook
        self.released: SelfieRelease | None = None  # what a Unico call did with the selfie
        self.signals: ReviewSignals | None = None  # Unico's final answer, as a reviewer weighs it

    @property
    def deadline(self) -> float:
        """The onboarding's deadline (epoch seconds): the identity step's time budget."""
        return self._calls.deadline

    def wake(self, process_id: str | None) -> None:
        """Unico says a process finished: read it now (a hint, never the result). A
        notification of an older process of this onboarding changes nothing."""
        if process_id in (None, self._status.process_id):
            self._woken = True

    async def run(
        self, request: OnboardingRequest, raw: Any, carry: Carry | None
    ) -> OnboardingResult:
        """The identity decision; `raw` and the state go on if the wait continues as new."""
        if carry is not None:
            process = self._resume(carry)
        else:
            self._calls.deadline = workflow.now().timestamp() + request.options.deadline_seconds
            process = await self._create(request)
        options = request.options
        while True:
            final = await self._wait_until_final(request, process, raw)
            decision = decide(final, options.bands)
            self._status.unico_status = final.status
            self.signals = review_signals(final, options.bands)
            if decision.retry_new_process and self._status.attempts < options.max_process_attempts:
                process = await self._create(request)
                continue
            assert decision.outcome is not None  # decide() is final on a final status
            return OnboardingResult(
                outcome=decision.outcome,
                reasons=decision.reasons,
                process_id=final.id,
                unico_status=final.status,
                unico_id=final.unico_id.result if final.unico_id else None,
                score=final.score,
                attempts=self._status.attempts,
                ambiguous_creates=self._status.ambiguous_creates,
                selfie=self._status.selfie,
            )

    async def _create(self, request: OnboardingRequest) -> UnicoProcess:
        options, status = request.options, self._status
        while True:
            if self._calls.remaining() <= 0:
                self._expire()
            self._journey.progress.pass_through(Stage.CREATING)
            status.attempts += 1
            try:
                process = await self._open(request, status.attempts)
            except CallFailed as lost:
                # The attempt counts: Unico may hold a process for it (and bill it).
                if lost.error_type == ErrorClass.AMBIGUOUS_CREATE:
                    status.ambiguous_creates += 1
                if status.attempts >= options.max_process_attempts:
                    self._journey.finish(Outcome.ERROR, lost.reason.code, lost.reason.message)
                await durable_sleep(options.poll_initial_seconds, "wait before creating again")
                continue
            status.process_id = process.id
            status.unico_status = process.status
            self._delay = first_wait(options, self._webhook_wait)
            # Searchable with the next stage's upsert: `waiting`, or `decided`.
            self._journey.progress.defer(PROCESS_ATTRIBUTE.value_set(process.id))
            return process

    async def _open(self, request: OnboardingRequest, attempt: int) -> UnicoProcess:
        created = CreateProcessInput(
            subject=request.subject,
            use_case=request.use_case,
            subsidiary_id=request.subsidiary_id,
            selfie_ref=request.selfie_ref,
            keep_evidence=keeps_evidence(request),
        )
        summary = f"check the selfie, create Unico process (attempt {attempt})"
        opened = await self._call(self._calls.run(open_process, created, summary, UNICO_CALL))
        self._count_unanswered(opened.unanswered_creates)
        self._status.selfie = opened.selfie_kind or self._status.selfie
        self._webhook_wait = opened.first_read_after_seconds
        if opened.refused is not None:
            # This try sent no create (the selfie stopped it): `attempts` counts creates.
            self._status.attempts -= 1
            self._refuse_selfie(opened.refused)
        assert opened.process is not None
        self.released = opened.release
        return opened.process

    def _count_unanswered(self, creates: int) -> None:
        """Creates of earlier tries whose answer was lost with their worker: each went out."""
        self._status.attempts += creates
        self._status.ambiguous_creates += creates

    def _refuse_selfie(self, check: SelfieCheck) -> NoReturn:
        """The image Unico would refuse, no call made: `invalid_request` with Unico's code;
        a capture past its time, `recapture` (the app asks the person for a new one)."""
        code = check.code or 20900
        outcome = RECAPTURE_CODES.get(code, Outcome.INVALID_REQUEST)
        self._journey.finish(outcome, f"unico.{code}", check.message or "")

    async def _wait_until_final(
        self, request: OnboardingRequest, process: UnicoProcess, raw: Any
    ) -> UnicoProcess:
        options, status = request.options, self._status
        while not process.is_final:
            self._journey.progress.enter(Stage.WAITING)
            await self._nap(min(self._delay, max(self._calls.remaining(), 0.0)))
            try:
                process = await self._read(request, process.id)
            except CallFailed:  # lost (404) or gone (410): a new process, while attempts remain
                return UnicoProcess(id=process.id, status=ProcessStatus.ERROR)
            status.polls += 1
            status.unico_status = process.status
            self._delay = min(self._delay * options.poll_backoff, options.poll_max_seconds)
            if not process.is_final and self._calls.remaining() <= 0:
                self._expire()
            if not process.is_final and self._may_continue_as_new():
                self._continue_as_new(raw, process.id)
        return process

    async def _read(self, request: OnboardingRequest, process_id: str) -> UnicoProcess:
        asked = ReadProcessInput(
            process_id=process_id,
            selfie_ref=request.selfie_ref,
            keep_evidence=keeps_evidence(request),
        )
        summary = f"read Unico process {process_id}"
        read = await self._call(self._calls.run(read_process, asked, summary, UNICO_CALL))
        self.released = read.release
        return read.process

    async def _nap(self, seconds: float) -> None:
        """Sleep until the next read is due, or until a webhook says to read now.

        A webhook that came during the previous read is still pending and ends the nap at
        once: the hint is consumed only by the read that follows it.
        """
        if not self._woken:
            self._journey.progress.show_next_read(seconds)
            await durable_sleep(
                seconds,
                f"wait up to {seconds:g}s for Unico (a webhook ends it early)",
                lambda: self._woken,
            )
        self._woken = False

    async def _call(self, call: Awaitable[T]) -> T:
        """A call of this step: a failure no reaction cures ends the onboarding, but a lost
        process (`Remedy.NEW_PROCESS`), which the caller handles."""
        try:
            return await call
        except DeadlinePassed:
            self._expire()
        except CallFailed as failed:
            if failed.reaction.remedy is Remedy.NEW_PROCESS:
                raise  # the next create's claim still holds the earlier ones
            self._count_unanswered(failed.unanswered_creates)
            reason = failed.reason
            self._journey.finish(failed.reaction.outcome, reason.code, reason.message)

    def _resume(self, carry: Carry) -> UnicoProcess:
        status = self._status
        self._calls.deadline = carry.deadline_epoch
        self._delay = carry.next_delay_seconds
        status.attempts = carry.attempts
        status.polls = carry.polls
        status.ambiguous_creates = carry.ambiguous_creates
        status.process_id = carry.process_id
        self._woken = carry.wake_now
        status.unico_status = carry.unico_status
        status.selfie = carry.selfie
        self._journey.progress.enter(Stage.WAITING)
        return UnicoProcess(id=carry.process_id, status=ProcessStatus.PROCESSING)

    def _may_continue_as_new(self) -> bool:
        """Suggested, and no `decision` update waiting (or the history is too long to wait)."""
        info = workflow.info()
        if not info.is_continue_as_new_suggested():
            return False
        too_long = info.get_current_history_length() > DEFER_CONTINUE_AS_NEW_UNTIL_EVENTS
        return workflow.all_handlers_finished() or too_long

    def _continue_as_new(self, raw: Any, process_id: str) -> NoReturn:
        status = self._status
        carry = Carry(
            deadline_epoch=self._calls.deadline,
            attempts=status.attempts,
            process_id=process_id,
            polls=status.polls,
            next_delay_seconds=self._delay,
            ambiguous_creates=status.ambiguous_creates,
            wake_now=self._woken,
            unico_status=status.unico_status,
            selfie=status.selfie,
        )
        workflow.continue_as_new(args=[raw, carry])

    def _expire(self) -> NoReturn:
        self._journey.finish(
            Outcome.EXPIRED, "deadline", "no final Unico status before the deadline"
        )


def first_wait(options: OnboardingOptions, deployment_wait: float | None) -> float:
    """Before the first read of a process that is not final: with Unico's webhook on, long
    enough for it to come first (it ends the wait), the read after it only the safety net
    of a lost one; else the request's polling."""
    wait = options.webhook_wait_seconds
    if wait is None:
        wait = deployment_wait or 0.0
    return max(options.poll_initial_seconds, wait)


def keeps_evidence(request: OnboardingRequest) -> bool | None:
    """Whether a reviewer will see the image: the request's choice of review, or None where
    it leaves that to the deployment (the worker knows REVIEW_BY_DEFAULT; asking it here
    would cost every onboarding an action)."""
    return request.options.review.enabled

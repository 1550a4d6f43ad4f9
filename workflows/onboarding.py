"""The Onboarding workflow: validate, authenticate, create the Unico process, wait, decide.

Orchestration only: every side effect is an activity, every verdict comes from the pure
`policy.decide`, and the clock is Temporal's. Waiting is a durable timer that a webhook
signal can cut short; the result is always read back from Unico with `get_process`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, NoReturn, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from workflows.details import current_details
    from workflows.models import (
        AMBIGUOUS_CREATE,
        RETRY_NOW_SIGNAL,
        STATUS_QUERY,
        UNICO_API_ACTIVITIES,
        WEBHOOK_SIGNAL,
        WORKFLOW_TYPE,
        Carry,
        CreateProcessInput,
        OnboardingRequest,
        OnboardingResult,
        OnboardingStatus,
        Outcome,
        ProcessStatus,
        Reason,
        SelfieCheck,
        Stage,
        TokenInfo,
        UnicoProcess,
        unico_task_queue_for,
    )
    from workflows.policy import decide
    from workflows.reactions import (
        MAX_TOKEN_REFRESHES,
        WORKFLOW_HANDLED,
        Reaction,
        Remedy,
        reaction_for,
    )
    from workflows.requests import parse_request
    from workflows.selfie_release import release_selfie, selfie_ref_in
    from workflows.telemetry import record_decision

T = TypeVar("T")

STAGE_ATTRIBUTE = SearchAttributeKey.for_keyword("OnboardingStage")
OUTCOME_ATTRIBUTE = SearchAttributeKey.for_keyword("OnboardingOutcome")
PROCESS_ATTRIBUTE = SearchAttributeKey.for_keyword("UnicoProcessId")

# Transient and rate-limited errors are retried here, with backoff or after Retry-After;
# every other class comes back to the workflow at once (workflows/reactions.py).
UNICO_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    non_retryable_error_types=WORKFLOW_HANDLED,
)
CALL_TIMEOUT = timedelta(seconds=60)

# Workflow changes that alter the commands of recorded histories, each behind
# `workflow.patched(...)` (README, "Changing the workflow"). Never reuse or rename an id.
# Histories recorded before a change replay as they ran, on the old path.
PATCH_STAGE_AT_START = "stage-at-start"  # OnboardingStage is `validating` from the first task
PATCH_RELEASE_SELFIE = "release-selfie"  # the selfie is deleted (or retained) at the end
PATCH_INPUT_HARDENING = "input-hardening"  # the input rules that came after the first release


class _Finished(Exception):
    """Unwinds the workflow to `run` with its result; never leaves the workflow."""

    def __init__(self, result: OnboardingResult) -> None:
        super().__init__(result.outcome)
        self.result = result


@workflow.defn(name=WORKFLOW_TYPE)
class Onboarding:
    def __init__(self) -> None:
        self._status = OnboardingStatus(stage=Stage.VALIDATING)
        self._woken = False
        self._retry_now = False
        self._deadline = 0.0
        self._delay = 0.0
        self._raw: Any = None
        self._request: OnboardingRequest | None = None

    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        self._raw = raw
        workflow.set_current_details(current_details(self._status))
        try:
            result = self._finish(await self._onboard(raw, carry))
        except _Finished as finished:
            result = self._finish(finished.result)
        except asyncio.CancelledError:
            # Canceled through Temporal: say so in the result instead of vanishing.
            result = self._finish(self._canceled())
        # Continue-as-new never gets here: the selfie goes only when the onboarding ends.
        selfie_ref = self._request.selfie_ref if self._request else selfie_ref_in(raw)
        if selfie_ref and workflow.patched(PATCH_RELEASE_SELFIE):
            await release_selfie(selfie_ref)
        return result

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> OnboardingStatus:
        return self._status

    @workflow.signal(name=WEBHOOK_SIGNAL)
    def unico_webhook(self, notification: Any = None) -> None:
        """Unico says a process finished: only a hint to read it now, never the result."""
        process_id = notification.get("processId") if isinstance(notification, dict) else None
        if process_id in (None, self._status.process_id):
            self._woken = True

    @workflow.signal(name=RETRY_NOW_SIGNAL)
    def retry_now(self) -> None:
        """An operator fixed what blocked this onboarding: retry now, not at the next timer."""
        self._retry_now = True

    async def _onboard(self, raw: Any, carry: Carry | None) -> OnboardingResult:
        if carry is None:
            self._mark_validating()
        parsed = parse_request(raw, hardened=workflow.patched(PATCH_INPUT_HARDENING))
        if isinstance(parsed, Reason):
            raise _Finished(OnboardingResult(outcome=Outcome.INVALID_REQUEST, reasons=[parsed]))
        self._request = request = parsed
        options = request.options
        if carry:
            self._resume(carry)
            process = UnicoProcess(id=carry.process_id, status=ProcessStatus.PROCESSING)
        else:
            self._deadline = workflow.now().timestamp() + options.deadline_seconds
            await self._check_selfie(request.selfie_ref)
            self._enter(Stage.AUTHENTICATING)
            await self._call("acquire_token", None, TokenInfo, "get a Unico access token")
            process = await self._create(request)
        while True:
            final = await self._wait_until_final(process)
            decision = decide(final, options.bands)
            self._status.unico_status = final.status
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
            )

    def _mark_validating(self) -> None:
        # Histories recorded before this patch have no such upsert: they take the old path.
        if workflow.patched(PATCH_STAGE_AT_START):
            workflow.upsert_search_attributes([STAGE_ATTRIBUTE.value_set(Stage.VALIDATING.value)])

    def _resume(self, carry: Carry) -> None:
        self._deadline = carry.deadline_epoch
        self._delay = carry.next_delay_seconds
        self._status.attempts = carry.attempts
        self._status.polls = carry.polls
        self._status.ambiguous_creates = carry.ambiguous_creates
        self._status.process_id = carry.process_id
        self._woken = carry.wake_now
        self._status.unico_status = carry.unico_status
        self._enter(Stage.WAITING)

    async def _check_selfie(self, selfie_ref: str) -> None:
        check = await self._call(
            "inspect_selfie", selfie_ref, SelfieCheck, "check the selfie: format, size, resolution"
        )
        if not check.ok:
            code = check.code or 20900
            raise _Finished(
                self._result(Outcome.INVALID_REQUEST, f"unico.{code}", check.message or "")
            )

    async def _create(self, request: OnboardingRequest) -> UnicoProcess:
        options = request.options
        while True:
            if self._remaining() <= 0:
                self._expire()
            self._enter(Stage.CREATING)
            self._status.attempts += 1
            try:
                process = await self._call(
                    "create_process",
                    CreateProcessInput(
                        subject=request.subject,
                        use_case=request.use_case,
                        subsidiary_id=request.subsidiary_id,
                        selfie_ref=request.selfie_ref,
                    ),
                    UnicoProcess,
                    f"create Unico process (attempt {self._status.attempts})",
                )
            except _ProcessLost as lost:
                # The attempt counts: Unico may hold a process for it (and bill it).
                if lost.error_type == AMBIGUOUS_CREATE:
                    self._status.ambiguous_creates += 1
                if self._status.attempts >= options.max_process_attempts:
                    raise _Finished(self._result(Outcome.ERROR, lost.code, lost.message)) from None
                await self._sleep(options.poll_initial_seconds, "wait before creating again")
                continue
            self._status.process_id = process.id
            self._status.unico_status = process.status
            self._delay = options.poll_initial_seconds
            workflow.upsert_search_attributes([PROCESS_ATTRIBUTE.value_set(process.id)])
            return process

    async def _wait_until_final(self, process: UnicoProcess) -> UnicoProcess:
        assert self._request is not None
        options = self._request.options
        while not process.is_final:
            self._enter(Stage.WAITING)
            await self._nap(min(self._delay, max(self._remaining(), 0.0)))
            try:
                process = await self._call(
                    "get_process", process.id, UnicoProcess, f"read Unico process {process.id}"
                )
            except _ProcessLost:
                return UnicoProcess(id=process.id, status=ProcessStatus.ERROR)
            self._status.polls += 1
            self._status.unico_status = process.status
            self._delay = min(self._delay * options.poll_backoff, options.poll_max_seconds)
            if not process.is_final and self._remaining() <= 0:
                self._expire()
            if not process.is_final and workflow.info().is_continue_as_new_suggested():
                self._continue_as_new(process.id)
        return process

    async def _nap(self, seconds: float) -> None:
        """Sleep until the next read is due, or until a webhook says to read now.

        A webhook that came during the previous read is still pending and ends the nap at
        once: the hint is consumed only by the read that follows it.
        """
        if not self._woken:
            self._show_waiting(seconds)
            await self._sleep(
                seconds,
                f"wait up to {seconds:g}s for Unico (a webhook ends it early)",
                self._webhook_came,
            )
        self._woken = False

    def _webhook_came(self) -> bool:
        return self._woken

    def _operator_said_retry(self) -> bool:
        return self._retry_now

    async def _sleep(
        self, seconds: float, summary: str, cut_short: Callable[[], bool] | None = None
    ) -> None:
        """A durable timer, which `cut_short` (a signal's flag) may end early."""
        # The timer running out is the normal way a wait ends.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                cut_short or (lambda: False),
                timeout=timedelta(seconds=seconds),
                timeout_summary=summary,
            )

    def _continue_as_new(self, process_id: str) -> NoReturn:
        carry = Carry(
            deadline_epoch=self._deadline,
            attempts=self._status.attempts,
            process_id=process_id,
            polls=self._status.polls,
            next_delay_seconds=self._delay,
            ambiguous_creates=self._status.ambiguous_creates,
            wake_now=self._woken,
            unico_status=self._status.unico_status,
        )
        workflow.continue_as_new(args=[self._raw, carry])

    async def _call(self, name: str, arg: Any, result_type: type[T], summary: str) -> T:
        """Run one activity; react to its final failure by the error's class."""
        refreshes = waits = 0
        stage = self._status.stage
        while True:
            try:
                result = await self._execute(name, arg, result_type, summary)
            except ActivityError as err:
                reaction = reaction_for(_error_type(err))
                if reaction.remedy is Remedy.NEW_TOKEN and refreshes < MAX_TOKEN_REFRESHES:
                    refreshes += 1
                    await self._new_token(name)
                    continue
                if reaction.remedy is Remedy.WAIT_FOR_OPERATOR:
                    await self._wait_for_operator(name, err, reaction, waits)
                    waits += 1
                    continue
                self._fail(name, err, reaction)
            if waits:
                self._unblock(stage)
            return result

    async def _execute(self, name: str, arg: Any, result_type: type[T], summary: str) -> T:
        remaining = self._remaining()
        if remaining <= 0:
            self._expire()
        # Unico's process API is called from its own, rate-limited queue (see models).
        task_queue = (
            unico_task_queue_for(workflow.info().task_queue)
            if name in UNICO_API_ACTIVITIES
            else None
        )
        result: T = await workflow.execute_activity(
            name,
            args=[] if arg is None else [arg],
            result_type=result_type,
            task_queue=task_queue,
            start_to_close_timeout=CALL_TIMEOUT,
            schedule_to_close_timeout=timedelta(seconds=max(remaining, 1.0)),
            retry_policy=UNICO_RETRY,
            summary=summary,
        )
        return result

    async def _new_token(self, failed_activity: str) -> None:
        """The activity dropped the refused token; get a new one before calling again."""
        if failed_activity != "acquire_token":  # retrying that one asks for a new token
            await self._call("acquire_token", True, TokenInfo, "get a new access token")

    async def _wait_for_operator(
        self, name: str, err: ActivityError, reaction: Reaction, waits: int
    ) -> None:
        """Blocked until an operator acts: show it, wait (growing), and let the caller retry."""
        assert self._request is not None and reaction.stage is not None
        reason = _reason(name, err)
        if self._status.blocked_by != reason:
            self._status.blocked_by = reason
            workflow.upsert_memo({"blocked_by": reason.model_dump()})
        self._enter(reaction.stage)
        options = self._request.options
        schedule = (
            options.locked_retry
            if reaction.stage is Stage.BLOCKED_LOCKED
            else options.configuration_retry
        )
        if waits == 0:
            self._retry_now = False  # a signal from before this block is no answer to it
        if (remaining := self._remaining()) > 0:
            delay = min(schedule.delay(waits), remaining)
            summary = f"{reaction.stage.value}: retry {name} in {delay:g}s"
            await self._sleep(delay, summary, self._operator_said_retry)
            self._retry_now = False
        if self._remaining() <= 0:  # the error, not "deadline", says what went wrong
            message = f"{reason.message} (still failing at the deadline)"
            raise _Finished(self._result(reaction.outcome, reason.code, message))

    def _unblock(self, stage: Stage) -> None:
        self._status.blocked_by = None
        workflow.upsert_memo({"blocked_by": None})
        self._enter(stage)

    def _fail(self, activity_name: str, err: ActivityError, reaction: Reaction) -> NoReturn:
        cause = err.cause
        if isinstance(cause, CancelledError):
            # The onboarding was canceled while this activity ran or waited to retry.
            raise _Finished(self._canceled())
        if isinstance(cause, ActivityTimeout) and self._remaining() <= 0:
            self._expire()
        reason = _reason(activity_name, err)
        if reaction.remedy is Remedy.NEW_PROCESS:
            raise _ProcessLost(_error_type(err), reason)
        raise _Finished(self._result(reaction.outcome, reason.code, reason.message))

    def _expire(self) -> NoReturn:
        raise _Finished(
            self._result(Outcome.EXPIRED, "deadline", "no final Unico status before the deadline")
        )

    def _remaining(self) -> float:
        return self._deadline - workflow.now().timestamp()

    def _enter(self, stage: Stage) -> None:
        if self._status.stage != stage:
            self._status.stage = stage
            workflow.upsert_search_attributes([STAGE_ATTRIBUTE.value_set(stage.value)])
        workflow.set_current_details(current_details(self._status))

    def _show_waiting(self, seconds: float) -> None:
        next_read_at = workflow.now() + timedelta(seconds=seconds)
        workflow.set_current_details(current_details(self._status, next_read_at=next_read_at))

    def _canceled(self) -> OnboardingResult:
        return self._result(Outcome.CANCELED, "workflow.canceled", "canceled through Temporal")

    def _result(self, outcome: Outcome, code: str, message: str) -> OnboardingResult:
        return OnboardingResult(
            outcome=outcome,
            reasons=[Reason(code=code, message=message)],
            process_id=self._status.process_id,
            unico_status=self._status.unico_status,
            attempts=self._status.attempts,
        )

    def _finish(self, result: OnboardingResult) -> OnboardingResult:
        self._status.outcome = result.outcome
        self._enter(Stage.DECIDED)
        workflow.upsert_search_attributes([OUTCOME_ATTRIBUTE.value_set(result.outcome.value)])
        memo: dict[str, Any] = {"reasons": [reason.model_dump() for reason in result.reasons]}
        if self._status.ambiguous_creates:  # for reconciling with Unico's bill
            memo["ambiguous_creates"] = self._status.ambiguous_creates
        workflow.upsert_memo(memo)
        workflow.set_current_details(current_details(self._status, reasons=result.reasons))
        record_decision(result, self._started_at())
        return result

    def _started_at(self) -> float:
        """When the onboarding (not this run) started: its deadline, less its length."""
        if self._request is None or not self._deadline:
            return workflow.info().workflow_start_time.timestamp()
        return self._deadline - self._request.options.deadline_seconds


class _ProcessLost(Exception):
    """The process is gone or unknown at Unico (410, 404), or a create got no answer."""

    def __init__(self, error_type: str | None, reason: Reason) -> None:
        super().__init__(reason.code)
        self.error_type, self.code, self.message = error_type, reason.code, reason.message


def _error_type(err: ActivityError) -> str | None:
    cause = err.cause
    return cause.type if isinstance(cause, ApplicationError) else None


def _reason(activity_name: str, err: ActivityError) -> Reason:
    """The code and words that explain a failed activity: Unico's code where there is one."""
    cause = err.cause
    if isinstance(cause, ApplicationError):
        details = cause.details[0] if cause.details else {}
        code = details.get("code") if isinstance(details, dict) else None
        reason_code = f"unico.{code}" if code else f"{activity_name}.{cause.type}"
        return Reason(code=reason_code, message=cause.message)
    return Reason(code=f"{activity_name}.failed", message=str(cause))

"""The Onboarding workflow: validate, authenticate, create the Unico process, wait, decide.

Orchestration only: every side effect is an activity, every verdict comes from the pure
`policy.decide`, and the clock is Temporal's. Waiting is a durable timer that a webhook
signal can cut short; the result is always read back from Unico with `get_process`.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any, NoReturn, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from workflows.models import (
        STATUS_QUERY,
        UNICO_API_ACTIVITIES,
        WEBHOOK_SIGNAL,
        WORKFLOW_TYPE,
        Carry,
        CreateProcessInput,
        ErrorClass,
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
    from workflows.requests import parse_request
    from workflows.telemetry import record_decision

T = TypeVar("T")

STAGE_ATTRIBUTE = SearchAttributeKey.for_keyword("OnboardingStage")
OUTCOME_ATTRIBUTE = SearchAttributeKey.for_keyword("OnboardingOutcome")
PROCESS_ATTRIBUTE = SearchAttributeKey.for_keyword("UnicoProcessId")

# Errors an activity gives up on at once; the rest are retried with backoff.
FINAL_ERRORS = [
    ErrorClass.INVALID_REQUEST.value,
    ErrorClass.RECAPTURE.value,
    ErrorClass.CONFIGURATION.value,
    ErrorClass.LOCKED.value,
    ErrorClass.NOT_FOUND.value,
    ErrorClass.GONE.value,
]
UNICO_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    non_retryable_error_types=FINAL_ERRORS,
)
CALL_TIMEOUT = timedelta(seconds=60)
# A failed activity ends the onboarding with this outcome (others end it as `error`).
OUTCOME_FOR_ERROR = {
    ErrorClass.INVALID_REQUEST.value: Outcome.INVALID_REQUEST,
    ErrorClass.RECAPTURE.value: Outcome.RECAPTURE,
}
# A process that Unico says is gone or unknown is retried as a new process.
PROCESS_LOST = {ErrorClass.GONE.value, ErrorClass.NOT_FOUND.value}


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
        self._deadline = 0.0
        self._delay = 0.0
        self._raw: Any = None
        self._request: OnboardingRequest | None = None

    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        self._raw = raw
        try:
            return self._finish(await self._onboard(raw, carry))
        except _Finished as finished:
            return self._finish(finished.result)
        except asyncio.CancelledError:
            # Canceled through Temporal: say so in the result instead of vanishing.
            return self._finish(
                self._result(Outcome.CANCELED, "workflow.canceled", "canceled through Temporal")
            )

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> OnboardingStatus:
        return self._status

    @workflow.signal(name=WEBHOOK_SIGNAL)
    def unico_webhook(self, notification: Any = None) -> None:
        """Unico says a process finished: only a hint to read it now, never the result."""
        process_id = notification.get("processId") if isinstance(notification, dict) else None
        if process_id in (None, self._status.process_id):
            self._woken = True

    async def _onboard(self, raw: Any, carry: Carry | None) -> OnboardingResult:
        parsed = parse_request(raw)
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
            await self._call("acquire_token", None, TokenInfo, "get an access token")
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

    def _resume(self, carry: Carry) -> None:
        self._deadline = carry.deadline_epoch
        self._delay = carry.next_delay_seconds
        self._status.attempts = carry.attempts
        self._status.polls = carry.polls
        self._status.process_id = carry.process_id
        self._enter(Stage.WAITING)

    async def _check_selfie(self, selfie_ref: str) -> None:
        check = await self._call("inspect_selfie", selfie_ref, SelfieCheck, "inspect the selfie")
        if not check.ok:
            code = check.code or 20900
            raise _Finished(
                self._result(Outcome.INVALID_REQUEST, f"unico.{code}", check.message or "")
            )

    async def _create(self, request: OnboardingRequest) -> UnicoProcess:
        if self._remaining() <= 0:
            self._expire()
        self._enter(Stage.CREATING)
        self._status.attempts += 1
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
        self._status.process_id = process.id
        self._status.unico_status = process.status
        self._delay = request.options.poll_initial_seconds
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
                    "get_process", process.id, UnicoProcess, "read the Unico process"
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
        self._woken = False
        # The timer running out is the normal way a poll round ends.
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._woken,
                timeout=timedelta(seconds=seconds),
                timeout_summary=f"wait {seconds:g}s for Unico (or its webhook)",
            )

    def _continue_as_new(self, process_id: str) -> NoReturn:
        carry = Carry(
            deadline_epoch=self._deadline,
            attempts=self._status.attempts,
            process_id=process_id,
            polls=self._status.polls,
            next_delay_seconds=self._delay,
        )
        workflow.continue_as_new(args=[self._raw, carry])

    async def _call(self, name: str, arg: Any, result_type: type[T], summary: str) -> T:
        """Run one activity; turn its final failure into the onboarding's outcome."""
        remaining = self._remaining()
        if remaining <= 0:
            self._expire()
        args = [] if arg is None else [arg]
        # Unico's process API is called from its own, rate-limited queue (see models).
        task_queue = (
            unico_task_queue_for(workflow.info().task_queue)
            if name in UNICO_API_ACTIVITIES
            else None
        )
        try:
            result: T = await workflow.execute_activity(
                name,
                args=args,
                result_type=result_type,
                task_queue=task_queue,
                start_to_close_timeout=CALL_TIMEOUT,
                schedule_to_close_timeout=timedelta(seconds=max(remaining, 1.0)),
                retry_policy=UNICO_RETRY,
                summary=summary,
            )
        except ActivityError as err:
            self._fail(name, err)
        return result

    def _fail(self, activity_name: str, err: ActivityError) -> NoReturn:
        cause = err.cause
        if isinstance(cause, ActivityTimeout) and self._remaining() <= 0:
            self._expire()
        if isinstance(cause, ApplicationError):
            if activity_name == "get_process" and cause.type in PROCESS_LOST:
                raise _ProcessLost()
            details = cause.details[0] if cause.details else {}
            code = details.get("code") if isinstance(details, dict) else None
            outcome = OUTCOME_FOR_ERROR.get(cause.type or "", Outcome.ERROR)
            reason_code = f"unico.{code}" if code else f"{activity_name}.{cause.type}"
            raise _Finished(self._result(outcome, reason_code, cause.message))
        raise _Finished(self._result(Outcome.ERROR, f"{activity_name}.failed", str(err.cause)))

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
        workflow.upsert_memo({"reasons": [reason.model_dump() for reason in result.reasons]})
        record_decision(result, self._started_at())
        return result

    def _started_at(self) -> float:
        """When the onboarding (not this run) started: its deadline, less its length."""
        if self._request is None or not self._deadline:
            return workflow.info().workflow_start_time.timestamp()
        return self._deadline - self._request.options.deadline_seconds


class _ProcessLost(Exception):
    """get_process answered 410 or 404: the process ended in error at Unico."""

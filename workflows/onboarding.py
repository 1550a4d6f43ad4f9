"""The Onboarding workflow: the journey of one person, a step at a time.

1. validate the request (`requests.parse_request`);
2. identity (`steps/identity.py`): create the Unico process, wait for it, decide; the
   decision is then the `decision` update's answer;
3. review (`steps/review.py`), when the decision is `review` and a reviewer is wanted;
4. account (`steps/account.py`), when an approved person asks for one;
5. MFA (`steps/mfa.py`), when an approved person asks to enroll their phone;
6. the selfie's end (`steps/selfie.py`), whatever the outcome.

Orchestration only: every side effect is an activity, every verdict comes from the pure
`policy.decide`, and the clock is Temporal's. Each run is pinned to the build that started
it (Worker Deployment Versioning): a deploy never replays a run on other code.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.common import VersioningBehavior
from temporalio.workflow import HandlerUnfinishedPolicy

with workflow.unsafe.imports_passed_through():
    from contracts.mfa import INVALID_OTP_FORMAT, OtpAnswer, ResendAnswer
    from contracts.mfa import MALFORMED as MFA_MALFORMED
    from contracts.sealing import Unsealed
    from onboarding_client.contract.names import (
        CLAIM_UPDATE,
        DECISION_UPDATE,
        OUTCOME_ATTRIBUTE,
        RESEND_OTP_UPDATE,
        RETRY_NOW_SIGNAL,
        REVIEW_UPDATE,
        STAGE_ATTRIBUTE,
        STATUS_QUERY,
        SUBMIT_OTP_UPDATE,
        WEBHOOK_SIGNAL,
        WORKFLOW_TYPE,
    )
    from onboarding_client.contract.outcome import Outcome, Reason
    from onboarding_client.contract.request import OnboardingRequest
    from onboarding_client.contract.result import IdentityDecision, OnboardingResult
    from onboarding_client.contract.review import MALFORMED as REVIEW_MALFORMED
    from onboarding_client.contract.review import ReviewAnswered, ReviewClaimed
    from onboarding_client.contract.status import Carry, OnboardingStatus, Stage
    from workflows.inbox import ignore_extra, no_arguments, sole_argument
    from workflows.journey import Finished, Journey
    from workflows.requests import parse_request, refuse_other_workflow_ids
    from workflows.steps.account import AccountStep
    from workflows.steps.identity import IdentityStep
    from workflows.steps.mfa import MfaStep, code_required
    from workflows.steps.review import ReviewStep
    from workflows.steps.selfie import release, selfie_ref_in
    from workflows.steps.unsealed import refuse_unsealed
    from workflows.telemetry import record_decision


@workflow.defn(name=WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.PINNED)
class Onboarding:
    def __init__(self) -> None:
        self._journey = Journey()
        self._status = self._journey.progress.status
        self._identity = IdentityStep(self._journey)
        self._review = ReviewStep(self._journey)
        self._account = AccountStep(self._journey)
        self._mfa = MfaStep(self._journey)
        self._request: OnboardingRequest | None = None
        self._decision: IdentityDecision | None = None  # the `decision` update's answer

    @workflow.run
    async def run(self, *args: Any) -> OnboardingResult:
        """Takes the request, as JSON (and, after a continue-as-new, the state carried)."""
        self._journey.progress.show()
        raw = args[0] if args else None
        try:
            if any(isinstance(arg, Unsealed) for arg in args):  # a caller forgot the codec
                await refuse_unsealed(self._journey)
            result = await self._onboard(raw, self._carried(args))
        except Finished as finished:
            result = finished.result
        except asyncio.CancelledError:
            # Canceled through Temporal: say so in the result instead of vanishing.
            result = self._journey.progress.result(
                Outcome.CANCELED, "workflow.canceled", "canceled through Temporal"
            )
        result = self._finish(result)
        # Continue-as-new never gets here: the selfie goes only when the onboarding ends.
        selfie_ref = self._request.selfie_ref if self._request else selfie_ref_in(raw)
        if selfie_ref:
            await release(self._journey, selfie_ref, self._identity.released)
        # Every update gets its answer before the run ends (it issues no command).
        await workflow.wait_condition(workflow.all_handlers_finished)
        return result

    async def _onboard(self, raw: Any, carry: Carry | None) -> OnboardingResult:
        request = self._validate(raw, first_run=carry is None)
        result = await self._identity.run(request, raw, carry)
        self._announce(result)
        if await self._review.wanted(request, result):
            result = await self._review.run(request, result, self._identity.signals)
            self._decision = result.identity()  # from now on, the reviewer's (or the deadline's)
        if self._account.wanted(request, result):
            result = await self._account.run(request, result)
        if self._mfa.wanted(request, result):
            result = await self._mfa.run(request, result)
        return result

    # --- what callers and operators send ------------------------------------------------

    # Every handler takes `*args`: a client may send any number of arguments of any shape,
    # and none may fail a workflow task (`workflows/inbox.py`).

    @workflow.query(name=STATUS_QUERY)
    def status(self, *args: Any) -> OnboardingStatus:
        ignore_extra(args, STATUS_QUERY)
        return self._status

    @workflow.signal(name=WEBHOOK_SIGNAL)
    def unico_webhook(self, *args: Any) -> None:
        """Unico says a process finished: only a hint to read it now, never the result."""
        ignore_extra(args, WEBHOOK_SIGNAL, takes=1)
        notification = args[0] if args else None
        process_id = notification.get("processId") if isinstance(notification, dict) else None
        self._identity.wake(process_id if isinstance(process_id, str) else None)

    @workflow.signal(name=RETRY_NOW_SIGNAL)
    def retry_now(self, *args: Any) -> None:
        """An operator fixed what blocked this onboarding: retry now, not at the next timer."""
        ignore_extra(args, RETRY_NOW_SIGNAL)
        self._journey.retry_now = True

    # Abandoned only by a continue-as-new past the deferral limit: the client then asks the
    # new run; the run's end waits for it as for any update.
    @workflow.update(name=DECISION_UPDATE, unfinished_policy=HandlerUnfinishedPolicy.ABANDON)
    async def decision(self, *args: Any) -> IdentityDecision:
        """The identity decision, as soon as there is one (a waiting review: `review`)."""
        await workflow.wait_condition(lambda: self._decision is not None)
        assert self._decision is not None
        return self._decision

    @decision.validator
    def _decision_is_asked(self, *args: Any) -> None:
        no_arguments(args, code="decision.malformed")

    @workflow.update(name=REVIEW_UPDATE)
    async def review(self, *args: Any) -> ReviewAnswered:
        """A reviewer's answer: `{"decision", "reason"?, "note"?, "proof"}`; answers the outcome it
        sets and the record kept."""
        return self._review.desk.answer(_review_answer(args))

    @review.validator
    def _review_is_welcome(self, *args: Any) -> None:
        self._review.desk.admit(_review_answer(args))

    @workflow.update(name=CLAIM_UPDATE)
    async def claim_review(self, *args: Any) -> ReviewClaimed:
        """The console holds a waiting review for the reviewer who opened it, or lets it go:
        `{"action": "claim" | "release", "proof"}`; answers who holds it now."""
        return self._review.desk.claim(_claim(args))

    @claim_review.validator
    def _claim_is_welcome(self, *args: Any) -> None:
        self._review.desk.admit_claim(_claim(args))

    @workflow.update(name=SUBMIT_OTP_UPDATE)
    async def submit_otp(self, *args: Any) -> OtpAnswer:
        """The person's code from the SMS: `{"code": "123456"}`; answers accepted (with the
        recovery code, once) or why not and the attempts left."""
        return await self._mfa.desk.submit(_code_answer(args))

    @submit_otp.validator
    def _code_is_welcome(self, *args: Any) -> None:
        self._mfa.desk.check_code(_code_answer(args))

    @workflow.update(name=RESEND_OTP_UPDATE)
    async def resend_otp(self, *args: Any) -> ResendAnswer:
        """Another SMS, or `too_many_sms` and when to try again."""
        return await self._mfa.desk.resend()

    @resend_otp.validator
    def _resend_is_welcome(self, *args: Any) -> None:
        no_arguments(args, code=MFA_MALFORMED)
        self._mfa.desk.check_resend()

    # --- around the steps ---------------------------------------------------------------

    def _carried(self, args: tuple[Any, ...]) -> Carry | None:
        """The state a continue-as-new hands over; from a client's start, nothing is taken."""
        if len(args) > 1 and workflow.info().continued_run_id is not None:
            return Carry.model_validate(args[1])
        ignore_extra(args, "the workflow's input", takes=1)
        return None

    def _validate(self, raw: Any, *, first_run: bool) -> OnboardingRequest:
        if first_run:
            self._mark_validating()
        parsed = parse_request(raw)
        if isinstance(parsed, OnboardingRequest):
            parsed = refuse_other_workflow_ids(parsed, workflow.info().workflow_id)
        if isinstance(parsed, Reason):
            raise Finished(OnboardingResult(outcome=Outcome.INVALID_REQUEST, reasons=[parsed]))
        self._request = parsed
        self._journey.options = parsed.options
        return parsed

    def _mark_validating(self) -> None:
        # The client library sets the stage at start (free); another client may not.
        given = workflow.info().typed_search_attributes
        if not any(pair.key.name == STAGE_ATTRIBUTE.name for pair in given):
            workflow.upsert_search_attributes([STAGE_ATTRIBUTE.value_set(Stage.VALIDATING.value)])

    def _announce(self, result: OnboardingResult) -> None:
        """The identity decision exists: the `decision` update answers it from now on."""
        if self._decision is None:
            self._decision = result.identity()

    def _finish(self, result: OnboardingResult) -> OnboardingResult:
        self._announce(result)
        self._status.outcome = result.outcome
        # One upsert: the stage, the outcome, and a process id not yet searchable.
        self._journey.progress.enter(
            Stage.DECIDED, OUTCOME_ATTRIBUTE.value_set(result.outcome.value)
        )
        if self._status.ambiguous_creates:  # for reconciling with Unico's bill
            workflow.upsert_memo({"ambiguous_creates": self._status.ambiguous_creates})
        self._journey.progress.show(reasons=result.reasons)
        record_decision(result, self._started_at())
        return result

    def _started_at(self) -> float:
        """When the onboarding (not this run) started: its deadline, less its length."""
        if self._request is None or not self._identity.deadline:
            return workflow.info().workflow_start_time.timestamp()
        return self._identity.deadline - self._request.options.deadline_seconds


def _claim(args: tuple[Any, ...]) -> Any:
    return sole_argument(args, code=REVIEW_MALFORMED, shape='{"action", "proof"}')


def _review_answer(args: tuple[Any, ...]) -> Any:
    return sole_argument(
        args, code=REVIEW_MALFORMED, shape='{"decision", "reason"?, "note"?, "proof"}'
    )


def _code_answer(args: tuple[Any, ...]) -> Any:
    if not args:
        raise code_required()
    return sole_argument(args, code=INVALID_OTP_FORMAT, shape='{"code": "<the code>"}')

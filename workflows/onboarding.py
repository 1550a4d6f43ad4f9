"""The Onboarding workflow: its stages, in order.

1. validate the request (`requests.parse_request`) and the selfie (`inspect_selfie`);
2. authenticate (warm the worker's token cache);
3. create the Unico process;
4. wait for it (a durable timer that Unico's webhook signal can cut short), read it;
5. decide (`policy.decide`), creating a new process when a decision asks for one; the
   decision is then the `decision` update's answer;
6. review, when the decision is `review` and the request asks for it (`review`);
7. register the approved person's account in Identity Cloud, when asked (`_register`);
8. enroll the approved person's phone in Guardian MFA, when asked (`_enroll`, `mfa`);
9. release the selfie, whatever the outcome: the Unico call whose answer settled the
   process has done it on the way (`selfie-with-last-call`); otherwise the end does.

Orchestration only: every side effect is an activity (`activity_calls` runs them and reacts
to their failures), every verdict comes from the pure `policy.decide`, and the clock is
Temporal's. What operators see of it is `progress`'s.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, NoReturn, TypeVar

from temporalio import workflow
from temporalio.workflow import HandlerUnfinishedPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.activity_calls import (
        ActivityCalls,
        CallFailed,
        DeadlinePassed,
        durable_sleep,
    )
    from workflows.decision_telemetry import record_decision
    from workflows.error_classes import ErrorClass
    from workflows.mfa import SUMMARIES, OtpDesk
    from workflows.models import (
        AccountResult,
        AccountStatus,
        Carry,
        CreateProcessInput,
        Enrollment,
        IdentityDecision,
        MfaResult,
        MfaStatus,
        OnboardingRequest,
        OnboardingResult,
        OnboardingStatus,
        OpenedProcess,
        OtpAnswer,
        Outcome,
        ProcessStatus,
        ReadProcess,
        ReadProcessInput,
        Reason,
        RegisterAccountInput,
        ResendAnswer,
        ReviewAnswered,
        ReviewBrief,
        SelfieCheck,
        SelfieRelease,
        Stage,
        StartEnrollmentInput,
        TokenInfo,
        UnicoProcess,
    )
    from workflows.names import (
        ACQUIRE_TOKEN,
        CREATE_PROCESS,
        DECISION_UPDATE,
        GET_PROCESS,
        INSPECT_SELFIE,
        OPEN_PROCESS,
        OUTCOME_ATTRIBUTE,
        PROCESS_ATTRIBUTE,
        READ_PROCESS,
        REGISTER_ACCOUNT,
        RESEND_OTP_UPDATE,
        RETRY_NOW_SIGNAL,
        REVIEW_BY_DEFAULT,
        REVIEW_DEADLINE_ATTRIBUTE,
        REVIEW_UPDATE,
        STAGE_ATTRIBUTE,
        START_MFA_ENROLLMENT,
        STATUS_QUERY,
        SUBMIT_OTP_UPDATE,
        WEBHOOK_SIGNAL,
        WORKFLOW_TYPE,
    )
    from workflows.policy import decide
    from workflows.progress import Progress
    from workflows.reactions import Remedy
    from workflows.requests import parse_request
    from workflows.review import ReviewDesk, settled
    from workflows.selfie_release import release_selfie, selfie_ref_in

T = TypeVar("T")

# Workflow changes that alter the commands of recorded histories, each behind
# `workflow.patched(...)` (docs/changing-the-workflow.md). Never reuse or rename an id.
# Histories recorded before a change replay as they ran, on the old path.
PATCH_STAGE_AT_START = "stage-at-start"  # OnboardingStage is `validating` from the first task
PATCH_RELEASE_SELFIE = "release-selfie"  # the selfie is deleted (or retained) at the end
PATCH_INPUT_HARDENING = "input-hardening"  # the input rules that came after the first release
PATCH_REVIEW = "review-step"  # a `review` decision may wait for a reviewer
PATCH_ACCOUNT = "account-step"  # an approved person may get an Identity Cloud account
PATCH_MFA = "mfa-step"  # an approved person may enroll their phone in Guardian MFA
# Fewer billable commands: the stage at start (from the client), the selfie check and the
# token inside the create (`open_process`), stages that last a moment in the details only,
# the process id with the next stage, decided and outcome in one upsert, the selfie's
# release as a local activity.
PATCH_LEAN = "lean-commands"
# Less for the server to write: a run that takes this has taken every patch above without
# their markers (one marker where there were three to six, each a history event and a
# `TemporalChangeVersion` upsert that the server indexes), and writes no memo of what its
# result already says (the reasons).
PATCH_LEAN_HISTORY = "lean-history"
# The selfie goes with the Unico call whose answer settles the process (the create that
# answers status 3, or the read that does), not in a local activity at the end; a retry of
# that call finds a tombstone naming the process. Like `lean-history`, it implies every
# patch above, so a run still writes one marker.
PATCH_SELFIE_WITH_LAST_CALL = "selfie-with-last-call"
# A waiting `decision` update postpones a suggested continue-as-new (it would fail the
# update), but not past this many events: then it goes, and the client asks the new run.
DEFER_CONTINUE_AS_NEW_UNTIL_EVENTS = 20_000
REVIEW_DEFAULT_TIMEOUT = timedelta(seconds=10)


class Finished(Exception):
    """Unwinds the workflow to `run` with its result; never leaves the workflow."""

    def __init__(self, result: OnboardingResult) -> None:
        super().__init__(result.outcome)
        self.result = result


@workflow.defn(name=WORKFLOW_TYPE)
class Onboarding:
    def __init__(self) -> None:
        self._progress = Progress()
        self._status = self._progress.status
        self._calls = ActivityCalls(self._progress)
        self._woken = False  # Unico's webhook came: read the process now
        self._delay = 0.0  # the next wait between reads
        self._raw: Any = None
        self._request: OnboardingRequest | None = None
        self._decision: IdentityDecision | None = None  # the `decision` update's answer
        self._desk = ReviewDesk()
        self._otp = OtpDesk()
        self._identity_deadline = 0.0  # the onboarding's; a step after it has its own
        self._lean = False  # the `lean-commands` path; read at the run's start
        self._implied = False  # `lean-history`: every older patch taken, no marker of its own
        self._with_last_call = False  # `selfie-with-last-call`; read at the run's start
        self._released: SelfieRelease | None = None  # what a Unico call did with the selfie

    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        self._raw = raw
        self._lean = self._lean_path()  # first: its marker leads the history
        self._progress.show()
        try:
            result = self._finish(await self._onboard(raw, carry))
        except Finished as finished:
            result = self._finish(finished.result)
        except asyncio.CancelledError:
            # Canceled through Temporal: say so in the result instead of vanishing.
            result = self._finish(self._canceled())
        # Continue-as-new never gets here: the selfie goes only when the onboarding ends.
        selfie_ref = self._request.selfie_ref if self._request else selfie_ref_in(raw)
        if selfie_ref and self._patched(PATCH_RELEASE_SELFIE):
            await release_selfie(selfie_ref, local=self._lean, released=self._released)
        # Every update gets its answer before the run ends (it issues no command).
        await workflow.wait_condition(workflow.all_handlers_finished)
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
        self._calls.retry_now = True

    # Abandoned only by a continue-as-new past the deferral limit: the client then asks the
    # new run (onboarding.temporal.decisions); the run's end waits for it as for any update.
    @workflow.update(name=DECISION_UPDATE, unfinished_policy=HandlerUnfinishedPolicy.ABANDON)
    async def decision(self) -> IdentityDecision:
        """The identity decision, as soon as there is one (a waiting review: `review`)."""
        await workflow.wait_condition(lambda: self._decision is not None)
        assert self._decision is not None
        return self._decision

    @workflow.update(name=REVIEW_UPDATE)
    async def review(self, answer: Any) -> ReviewAnswered:
        """A reviewer's answer: `{"decision", "reviewer", "note"?}`; answers the outcome it
        sets and the record kept."""
        return self._desk.answer(answer)

    @review.validator
    def _review_is_welcome(self, answer: Any) -> None:
        self._desk.check(answer)

    @workflow.update(name=SUBMIT_OTP_UPDATE)
    async def submit_otp(self, answer: Any) -> OtpAnswer:
        """The person's code from the SMS: `{"code": "123456"}`; answers accepted (with the
        recovery code, once) or why not and the attempts left."""
        return await self._otp.submit(answer)

    @submit_otp.validator
    def _code_is_welcome(self, answer: Any) -> None:
        self._otp.check_code(answer)

    @workflow.update(name=RESEND_OTP_UPDATE)
    async def resend_otp(self) -> ResendAnswer:
        """Another SMS, or `too_many_sms` and when to try again."""
        return await self._otp.resend()

    @resend_otp.validator
    def _resend_is_welcome(self) -> None:
        self._otp.check_resend()

    # --- the stages ---------------------------------------------------------------------

    async def _onboard(self, raw: Any, carry: Carry | None) -> OnboardingResult:
        request = self._validate(raw, first_run=carry is None)
        if carry:
            process = self._resume(carry)
        else:
            self._calls.deadline = workflow.now().timestamp() + request.options.deadline_seconds
            self._identity_deadline = self._calls.deadline
            if not self._lean:  # the lean path checks the selfie, gets the token in the create
                await self._check_selfie(request.selfie_ref)
                await self._authenticate()
            process = await self._create(request)
        result = await self._decide(request, process)
        if self._reviewable(result) and await self._review_wanted(request):
            result = await self._review(request, result)
        # Only a request that asks for an account reaches the patch: its marker goes there.
        wants_account = result.outcome is Outcome.APPROVED and request.options.account.wanted
        if wants_account and self._patched(PATCH_ACCOUNT):
            result = await self._register(request, result)
        wants_mfa = result.outcome is Outcome.APPROVED and request.options.mfa.enroll
        if wants_mfa and self._patched(PATCH_MFA):
            result = await self._enroll(request, result)
        return result

    def _lean_path(self) -> bool:
        # Histories recorded before a patch issue their old commands on replay.
        if workflow.patched(PATCH_SELFIE_WITH_LAST_CALL):
            self._implied = self._with_last_call = True
            return True
        if workflow.patched(PATCH_LEAN_HISTORY):
            self._implied = True
            return True
        return workflow.patched(PATCH_LEAN)

    def _patched(self, patch_id: str) -> bool:
        """`workflow.patched`, for a patch older than `lean-history`."""
        return self._implied or workflow.patched(patch_id)

    def _reviewable(self, decided: OnboardingResult) -> bool:
        # Only a `review` decision asks whether to wait: the patch's marker goes on that path.
        return decided.outcome is Outcome.REVIEW and self._patched(PATCH_REVIEW)

    def _validate(self, raw: Any, *, first_run: bool) -> OnboardingRequest:
        if first_run:
            self._mark_validating()
        parsed = parse_request(raw, hardened=self._patched(PATCH_INPUT_HARDENING))
        if isinstance(parsed, Reason):
            raise Finished(OnboardingResult(outcome=Outcome.INVALID_REQUEST, reasons=[parsed]))
        self._request = parsed
        self._calls.options = parsed.options
        return parsed

    def _mark_validating(self) -> None:
        # The client library sets the stage at start (free); another client may not.
        given = workflow.info().typed_search_attributes
        if self._lean and any(pair.key.name == STAGE_ATTRIBUTE.name for pair in given):
            return
        # Histories recorded before this patch have no such upsert: they take the old path.
        if self._patched(PATCH_STAGE_AT_START):
            workflow.upsert_search_attributes([STAGE_ATTRIBUTE.value_set(Stage.VALIDATING.value)])

    async def _check_selfie(self, selfie_ref: str) -> None:
        check = await self._call(
            INSPECT_SELFIE, selfie_ref, SelfieCheck, "check the selfie: format, size, resolution"
        )
        if not check.ok:
            self._refuse_selfie(check)

    def _refuse_selfie(self, check: SelfieCheck) -> NoReturn:
        """The image Unico would refuse: `invalid_request` with Unico's code, no call made."""
        code = check.code or 20900
        raise Finished(
            self._progress.result(Outcome.INVALID_REQUEST, f"unico.{code}", check.message or "")
        )

    async def _authenticate(self) -> None:
        self._progress.enter(Stage.AUTHENTICATING)
        await self._call(ACQUIRE_TOKEN, None, TokenInfo, "get a Unico access token")

    async def _create(self, request: OnboardingRequest) -> UnicoProcess:
        options, status = request.options, self._status
        while True:
            if self._calls.remaining() <= 0:
                self._expire()
            if self._lean:
                self._progress.pass_through(Stage.CREATING)
            else:
                self._progress.enter(Stage.CREATING)
            status.attempts += 1
            try:
                process = await self._create_once(request, status.attempts)
            except CallFailed as lost:
                # The attempt counts: Unico may hold a process for it (and bill it).
                if lost.error_type == ErrorClass.AMBIGUOUS_CREATE:
                    status.ambiguous_creates += 1
                if status.attempts >= options.max_process_attempts:
                    reason = lost.reason
                    raise Finished(
                        self._progress.result(Outcome.ERROR, reason.code, reason.message)
                    ) from None
                await durable_sleep(options.poll_initial_seconds, "wait before creating again")
                continue
            status.process_id = process.id
            status.unico_status = process.status
            self._delay = options.poll_initial_seconds
            if self._lean:  # searchable with the next stage: `waiting`, or `decided`
                self._progress.defer(PROCESS_ATTRIBUTE.value_set(process.id))
            else:
                workflow.upsert_search_attributes([PROCESS_ATTRIBUTE.value_set(process.id)])
            return process

    async def _create_once(self, request: OnboardingRequest, attempt: int) -> UnicoProcess:
        created = CreateProcessInput(
            subject=request.subject,
            use_case=request.use_case,
            subsidiary_id=request.subsidiary_id,
            selfie_ref=request.selfie_ref,
            release_when_settled=self._with_last_call,
        )
        summary = f"create Unico process (attempt {attempt})"
        if not self._lean:
            return await self._call(CREATE_PROCESS, created, UnicoProcess, summary)
        # The activity dropped a refused token: calling it again gets a new one.
        opened = await self._call(
            OPEN_PROCESS, created, OpenedProcess, f"check the selfie, {summary}", refresh_with=None
        )
        if opened.refused is not None:
            self._refuse_selfie(opened.refused)
        assert opened.process is not None
        self._released = opened.release
        return opened.process

    async def _decide(self, request: OnboardingRequest, process: UnicoProcess) -> OnboardingResult:
        options = request.options
        while True:
            final = await self._wait_until_final(process)
            decision = decide(final, options.bands)
            self._status.unico_status = final.status
            if decision.retry_new_process and self._status.attempts < options.max_process_attempts:
                process = await self._create(request)
                continue
            assert decision.outcome is not None  # decide() is final on a final status
            result = OnboardingResult(
                outcome=decision.outcome,
                reasons=decision.reasons,
                process_id=final.id,
                unico_status=final.status,
                unico_id=final.unico_id.result if final.unico_id else None,
                score=final.score,
                attempts=self._status.attempts,
            )
            self._announce(result)
            return result

    async def _review_wanted(self, request: OnboardingRequest) -> bool:
        """The request's choice, or, where it leaves it open, the deployment's."""
        if request.options.review.enabled is not None:
            return request.options.review.enabled
        wanted: bool = await workflow.execute_local_activity(
            REVIEW_BY_DEFAULT,
            result_type=bool,
            start_to_close_timeout=REVIEW_DEFAULT_TIMEOUT,
            summary="does this deployment review by default?",
        )
        return wanted

    async def _review(
        self, request: OnboardingRequest, decided: OnboardingResult
    ) -> OnboardingResult:
        """Wait for a reviewer until the review deadline; the `decision` update answers
        `review` meanwhile."""
        options = request.options.review
        since = workflow.now()
        deadline = since + timedelta(seconds=options.deadline_seconds)
        self._status.review_deadline = deadline
        brief = ReviewBrief(
            reasons=decided.reasons,
            score=decided.score,
            process_id=decided.process_id,
            waiting_since=since,
            deadline=deadline,
        )
        workflow.upsert_memo({"review": brief.model_dump(mode="json")})
        self._progress.enter(Stage.AWAITING_REVIEW, REVIEW_DEADLINE_ATTRIBUTE.value_set(deadline))
        self._progress.show(reasons=decided.reasons)
        record = await self._desk.wait(options, deadline)
        self._status.review_deadline = None
        result = settled(decided, record, options)
        self._decision = result.identity()  # from now on, the reviewer's (or the deadline's)
        return result

    async def _register(
        self, request: OnboardingRequest, approved: OnboardingResult
    ) -> OnboardingResult:
        """The approved person's record in Identity Cloud, created or adopted; a failure
        ends the step `failed`, never the approval. The step has its own time budget."""
        self._progress.pass_through(Stage.REGISTERING)
        self._calls.deadline = workflow.now().timestamp() + request.options.account.deadline_seconds
        person = RegisterAccountInput(request_id=request.request_id, subject=request.subject)
        try:
            account = await self._calls.call(
                REGISTER_ACCOUNT,
                person,
                AccountResult,
                "register the approved person's account in Identity Cloud",
                refresh_with=None,
            )
        except CallFailed as failed:
            account = AccountResult(status=AccountStatus.FAILED, reason=failed.reason)
        except DeadlinePassed:
            why = Reason(code="account.deadline", message="no account before the step's deadline")
            account = AccountResult(status=AccountStatus.FAILED, reason=why)
        return approved.model_copy(update={"account": account})

    async def _enroll(
        self, request: OnboardingRequest, approved: OnboardingResult
    ) -> OnboardingResult:
        """The approved person's phone enrolled in Guardian MFA: the first SMS, then the
        conversation (`workflows/mfa.py`) until the right code or the step's deadline. A
        failure ends the step, never the approval."""
        options = request.options.mfa
        self._otp.options = options
        started = workflow.now().timestamp()
        self._calls.deadline = started + options.deadline_seconds
        account = approved.account
        uuid = account.uuid if account and account.status is not AccountStatus.FAILED else None
        if options.user_id is None and uuid is None:
            why = Reason(code="mfa.no_user", message="no Auth0 user: the account step made none")
            failed = MfaResult(status=MfaStatus.FAILED, reason=why)
            return approved.model_copy(update={"mfa": failed})
        assert request.subject.phone is not None  # the request's rules ask for it
        person = StartEnrollmentInput(
            user_id=options.user_id, account_uuid=uuid, phone=request.subject.phone
        )
        self._otp.person = person
        try:
            enrollment = await self._calls.call(
                START_MFA_ENROLLMENT,
                person,
                Enrollment,
                SUMMARIES[START_MFA_ENROLLMENT],
                refresh_with=None,
            )
            if enrollment.already_enrolled:
                why = Reason(code="mfa.already_enrolled", message="the person was already enrolled")
                mfa = MfaResult(status=MfaStatus.ALREADY_ENROLLED, reason=why)
            else:
                self._otp.enrollment = enrollment
                self._progress.enter(Stage.AWAITING_OTP)
                mfa = await self._otp.wait(self._calls.remaining())
        except CallFailed as failed:
            mfa = MfaResult(status=MfaStatus.FAILED, reason=failed.reason)
        except DeadlinePassed:
            why = Reason(code="mfa.deadline", message="no enrollment before the step's deadline")
            mfa = MfaResult(status=MfaStatus.EXPIRED, reason=why)
        self._otp.result = self._otp.result or mfa
        return approved.model_copy(update={"mfa": mfa})

    async def _wait_until_final(self, process: UnicoProcess) -> UnicoProcess:
        assert self._request is not None
        options, status = self._request.options, self._status
        while not process.is_final:
            self._progress.enter(Stage.WAITING)
            await self._nap(min(self._delay, max(self._calls.remaining(), 0.0)))
            try:
                process = await self._read(process.id)
            except CallFailed:
                return UnicoProcess(id=process.id, status=ProcessStatus.ERROR)
            status.polls += 1
            status.unico_status = process.status
            self._delay = min(self._delay * options.poll_backoff, options.poll_max_seconds)
            if not process.is_final and self._calls.remaining() <= 0:
                self._expire()
            if not process.is_final and self._may_continue_as_new():
                self._continue_as_new(process.id)
        return process

    async def _read(self, process_id: str) -> UnicoProcess:
        summary = f"read Unico process {process_id}"
        if not self._with_last_call:
            return await self._call(GET_PROCESS, process_id, UnicoProcess, summary)
        assert self._request is not None
        asked = ReadProcessInput(process_id=process_id, selfie_ref=self._request.selfie_ref)
        read = await self._call(READ_PROCESS, asked, ReadProcess, summary)
        self._released = read.release
        return read.process

    async def _nap(self, seconds: float) -> None:
        """Sleep until the next read is due, or until a webhook says to read now.

        A webhook that came during the previous read is still pending and ends the nap at
        once: the hint is consumed only by the read that follows it.
        """
        if not self._woken:
            self._progress.show_next_read(seconds)
            await durable_sleep(
                seconds,
                f"wait up to {seconds:g}s for Unico (a webhook ends it early)",
                lambda: self._woken,
            )
        self._woken = False

    # --- around the stages --------------------------------------------------------------

    async def _call(
        self,
        name: str,
        arg: Any,
        result_type: type[T],
        summary: str,
        *,
        refresh_with: str | None = ACQUIRE_TOKEN,
    ) -> T:
        """A call of the identity check: a failure no reaction cures ends the onboarding,
        but a lost process (`Remedy.NEW_PROCESS`), which the caller handles."""
        try:
            return await self._calls.call(
                name, arg, result_type, summary, refresh_with=refresh_with
            )
        except DeadlinePassed:
            self._expire()
        except CallFailed as failed:
            if failed.reaction.remedy is Remedy.NEW_PROCESS:
                raise
            reason = failed.reason
            outcome = failed.reaction.outcome
            raise Finished(self._progress.result(outcome, reason.code, reason.message)) from None

    def _resume(self, carry: Carry) -> UnicoProcess:
        status = self._status
        self._calls.deadline = self._identity_deadline = carry.deadline_epoch
        self._delay = carry.next_delay_seconds
        status.attempts = carry.attempts
        status.polls = carry.polls
        status.ambiguous_creates = carry.ambiguous_creates
        status.process_id = carry.process_id
        self._woken = carry.wake_now
        status.unico_status = carry.unico_status
        self._progress.enter(Stage.WAITING)
        return UnicoProcess(id=carry.process_id, status=ProcessStatus.PROCESSING)

    def _may_continue_as_new(self) -> bool:
        """Suggested, and no `decision` update waiting (or the history is too long to wait)."""
        info = workflow.info()
        if not info.is_continue_as_new_suggested():
            return False
        too_long = info.get_current_history_length() > DEFER_CONTINUE_AS_NEW_UNTIL_EVENTS
        return workflow.all_handlers_finished() or too_long

    def _continue_as_new(self, process_id: str) -> NoReturn:
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
        )
        workflow.continue_as_new(args=[self._raw, carry])

    def _expire(self) -> NoReturn:
        raise Finished(
            self._progress.result(
                Outcome.EXPIRED, "deadline", "no final Unico status before the deadline"
            )
        )

    def _canceled(self) -> OnboardingResult:
        return self._progress.result(
            Outcome.CANCELED, "workflow.canceled", "canceled through Temporal"
        )

    def _announce(self, result: OnboardingResult) -> None:
        """The identity decision exists: the `decision` update answers it from now on."""
        if self._decision is None:
            self._decision = result.identity()

    def _finish(self, result: OnboardingResult) -> OnboardingResult:
        self._announce(result)
        self._status.outcome = result.outcome
        outcome = OUTCOME_ATTRIBUTE.value_set(result.outcome.value)
        if self._lean:  # one upsert: the stage, the outcome, a process id not yet set
            self._progress.enter(Stage.DECIDED, outcome)
        else:
            self._progress.enter(Stage.DECIDED)
            workflow.upsert_search_attributes([outcome])
        memo: dict[str, Any] = {}
        if not self._implied:  # since `lean-history`, the reasons are the result's alone
            memo["reasons"] = [reason.model_dump() for reason in result.reasons]
        if self._status.ambiguous_creates:  # for reconciling with Unico's bill
            memo["ambiguous_creates"] = self._status.ambiguous_creates
        if memo:
            workflow.upsert_memo(memo)
        self._progress.show(reasons=result.reasons)
        record_decision(result, self._started_at())
        return result

    def _started_at(self) -> float:
        """When the onboarding (not this run) started: its deadline, less its length."""
        if self._request is None or not self._identity_deadline:
            return workflow.info().workflow_start_time.timestamp()
        return self._identity_deadline - self._request.options.deadline_seconds

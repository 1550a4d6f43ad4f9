"""The versioning rule, proven on real changes: `stage-at-start` (OnboardingStage is
`validating` from the first workflow task) went in behind `workflow.patched` after the
first batch of histories was recorded. Those histories still replay; without the guard
they would not. `release-selfie`, `input-hardening`, `review-step`, `account-step` and the
later ones went in the same way: histories from before them keep their old path, those
recorded since take the new one."""

from __future__ import annotations

from collections.abc import Callable

from onboarding.dev.history import (
    activity_names,
    has_patch,
    of_kind,
    patch_markers,
    scheduled_activities,
    stage_upserts,
)
from tests.replay.altered import (
    OnboardingUnguardedLean,
    OnboardingUnguardedLeanHistory,
    OnboardingUnguardedPatch,
    OnboardingUnguardedReview,
    OnboardingUnguardedSelfieWithLastCall,
    OnboardingWithoutAccountStep,
    OnboardingWithoutMfaStep,
)
from tests.replay.corpus import (
    Recorded,
    load_corpus,
    payload_json,
    replay,
    workflow_input,
    workflow_result,
)
from workflows.onboarding import (
    PATCH_ACCOUNT,
    PATCH_INPUT_HARDENING,
    PATCH_LEAN,
    PATCH_LEAN_HISTORY,
    PATCH_MFA,
    PATCH_RELEASE_SELFIE,
    PATCH_REVIEW,
    PATCH_SELFIE_WITH_LAST_CALL,
    PATCH_STAGE_AT_START,
    Onboarding,
)
from workflows.requests import request_id_exposes_cpf

CORPUS = load_corpus()


def took(recorded: Recorded, patch_id: str) -> bool:
    """Whether the run took a patch that every run asks for at its start: by its own marker,
    or by `lean-history`'s or `selfie-with-last-call`'s, each of which implies every older
    patch."""
    return any(
        has_patch(recorded.events, patch)
        for patch in (patch_id, PATCH_LEAN_HISTORY, PATCH_SELFIE_WITH_LAST_CALL)
    )


# The lean runs set the stage at start instead, so they never reach this patch.
PRE_PATCH = [r for r in CORPUS if not took(r, PATCH_STAGE_AT_START) and not took(r, PATCH_LEAN)]
# A run that continued as new resumes past the patched code, so only first runs take it.
PRE_PATCH_FIRST_RUNS = {r.name for r in PRE_PATCH if r.run == 1}


def test_the_corpus_keeps_histories_from_before_the_patch() -> None:
    assert len(PRE_PATCH_FIRST_RUNS) >= 12


async def test_pre_patch_histories_replay_against_the_patched_code() -> None:
    assert await replay(Onboarding, PRE_PATCH) == {}


async def test_the_same_change_without_the_guard_breaks_them() -> None:
    failures = await replay(OnboardingUnguardedPatch, PRE_PATCH)
    assert set(failures) == PRE_PATCH_FIRST_RUNS


def test_histories_recorded_since_take_the_new_path() -> None:
    post_patch = [r for r in CORPUS if r.run == 1 and has_patch(r.events, PATCH_STAGE_AT_START)]
    assert len(post_patch) >= 12, "record a batch with the patched code (make histories)"
    assert all(stage_upserts(r.events)[0] == "validating" for r in post_patch)
    assert all(stage_upserts(r.events)[0] != "validating" for r in PRE_PATCH if r.run == 1)


def test_the_selfie_is_released_last_only_since_its_patch() -> None:
    finals = [r for r in CORPUS if r.outcome is not None]
    released = [r for r in finals if took(r, PATCH_RELEASE_SELFIE)]
    assert len(released) >= 12, "record a batch with the patched code (make histories)"
    # Since `lean-commands` the release is a local activity: a marker, not a schedule (and
    # since `selfie-with-last-call`, mostly inside a Unico call: the test further down).
    scheduled = [r for r in released if not took(r, PATCH_LEAN)]
    assert all(scheduled_activities(r.events)[-1] == "release_selfie" for r in scheduled)
    assert all(
        of_kind(r.events, "MARKER_RECORDED")[-1].marker_recorded_event_attributes.marker_name
        == "core_local_activity"
        for r in released
        if r not in scheduled and r not in WITH_LAST_CALL
    )
    assert all(
        "release_selfie" not in scheduled_activities(r.events) for r in finals if r not in released
    )


def test_a_request_id_refused_today_kept_its_first_decision() -> None:
    # The first release accepted a request id that carries the CPF; its histories still
    # replay (test_replay) with that decision, because the hardened rules are patched in.
    old = [r for r in CORPUS if r.run == 1 and not took(r, PATCH_INPUT_HARDENING)]
    exposed = []
    for recorded in old:
        request = workflow_input(recorded.history())
        if request_id_exposes_cpf(request["request_id"], request["subject"]["code"]):
            exposed.append(workflow_result(recorded.history()))
    assert exposed and all(r and r["outcome"] != "invalid_request" for r in exposed)


# The runs that decided `review` before the review step: none asked whether to wait.
PRE_REVIEW = [r for r in CORPUS if r.outcome == "review" and not took(r, PATCH_REVIEW)]


async def test_review_decisions_recorded_before_the_review_step_replay_unchanged() -> None:
    assert len(PRE_REVIEW) >= 6, "every older batch decided `review` for 00000000353 and 604"
    assert await replay(Onboarding, PRE_REVIEW) == {}


async def test_the_review_step_without_its_guard_breaks_them() -> None:
    failures = await replay(OnboardingUnguardedReview, PRE_REVIEW)
    assert set(failures) == {r.name for r in PRE_REVIEW}


def test_only_review_decisions_carry_the_review_marker() -> None:
    """The marker is written where a `review` decision is made, and nowhere else: every
    other history of the batches recorded since issues the commands it issued before."""
    finals = [r for r in CORPUS if r.outcome is not None]
    marked = {r.name for r in finals if has_patch(r.events, PATCH_REVIEW)}
    assert len(marked) >= 8, "record a batch with the review step (make histories)"
    batches = {r.batch for r in finals if r.name in marked}
    decided_review = {
        r.name
        for r in finals
        if r.batch in batches
        and ("awaiting_review" in stage_upserts(r.events) or r.outcome == "review")
    }
    assert marked == decided_review


def _asked_for(recorded: Recorded, step: str, flag: str) -> bool:
    """Whether the request asked for a journey step (`options.<step>.<flag>`)."""
    options = workflow_input(recorded.history()).get("options") or {}
    return bool((options.get(step) or {}).get(flag))


def _asked_for_an_account(recorded: Recorded) -> bool:
    return _asked_for(recorded, "account", "register")


def _asked_for_mfa(recorded: Recorded) -> bool:
    return _asked_for(recorded, "mfa", "enroll")


def _runs_of_step(patch_id: str, activities: set[str]) -> list[Recorded]:
    """The runs that reached a journey step: by its marker, or (since `lean-history`, which
    implies it) by an activity the step runs."""
    return [
        r
        for r in CORPUS
        if has_patch(r.events, patch_id)
        or (took(r, patch_id) and activities & set(scheduled_activities(r.events)))
    ]


def _assert_only_asking_approvals_ran(
    runs: list[Recorded], asked: Callable[[Recorded], bool], activities: set[str]
) -> None:
    """The step ran where an approved onboarding that asks for it reached it, and nowhere
    else: every other history issues the commands it issued before."""
    finals = [r for r in CORPUS if r.outcome is not None]
    batches = {r.batch for r in runs}
    expected = {
        r.name for r in finals if r.batch in batches and r.outcome == "approved" and asked(r)
    }
    assert {r.name for r in runs} == expected
    assert all(
        bool(activities & set(scheduled_activities(r.events))) == (r in runs) for r in finals
    )


ACCOUNT_ACTIVITIES = {"register_account"}
ACCOUNT_RUNS = _runs_of_step(PATCH_ACCOUNT, ACCOUNT_ACTIVITIES)


def test_only_approvals_that_ask_for_an_account_carry_the_account_marker() -> None:
    assert len(ACCOUNT_RUNS) >= 5, "record a batch with the account step (make histories)"
    _assert_only_asking_approvals_ran(ACCOUNT_RUNS, _asked_for_an_account, ACCOUNT_ACTIVITIES)
    # A rejection that asked for an account never reached the step.
    finals = [r for r in CORPUS if r.outcome is not None]
    assert any(r.outcome == "rejected" and _asked_for_an_account(r) for r in finals)


def test_the_batch_holds_every_way_the_account_step_ends() -> None:
    accounts = [workflow_result(r.history())["account"] for r in ACCOUNT_RUNS]  # type: ignore[index]
    assert {a["status"] for a in accounts} == {"registered", "existing", "failed"}
    reasons = {(a["status"], (a.get("reason") or {}).get("code")) for a in accounts}
    assert ("registered", "account.adopted") in reasons  # a lost answer, adopted
    assert ("existing", "account.existing") in reasons  # the seeded person
    assert ("failed", "identity_cloud.361") in reasons  # an e-mail another record holds
    assert any("blocked_configuration" in stage_upserts(r.events) for r in ACCOUNT_RUNS), (
        "the blocked-then-healed case waits for an operator"
    )


async def test_a_deploy_that_drops_the_account_step_breaks_exactly_those_runs() -> None:
    failures = await replay(OnboardingWithoutAccountStep, CORPUS)
    assert set(failures) == {r.name for r in ACCOUNT_RUNS}


MFA_ACTIVITIES = {"start_mfa_enrollment", "send_otp_sms", "verify_otp"}
MFA_RUNS = _runs_of_step(PATCH_MFA, MFA_ACTIVITIES)


def test_only_approvals_that_ask_for_mfa_carry_the_mfa_marker() -> None:
    assert len(MFA_RUNS) >= 5, "record a batch with the MFA step (make histories)"
    _assert_only_asking_approvals_ran(MFA_RUNS, _asked_for_mfa, MFA_ACTIVITIES)


def test_the_batch_holds_every_way_the_mfa_step_ends() -> None:
    ends = [workflow_result(r.history())["mfa"] for r in MFA_RUNS]  # type: ignore[index]
    assert {m["status"] for m in ends} == {"enrolled", "already_enrolled", "expired", "failed"}
    # The conversation itself: codes accepted, a wrong one, a resend.
    updates = [
        e
        for r in MFA_RUNS
        for e in r.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    names = {
        e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
        for e in updates
    }
    assert names == {"submit_otp", "resend_otp"}


async def test_a_deploy_that_drops_the_mfa_step_breaks_exactly_those_runs() -> None:
    failures = await replay(OnboardingWithoutMfaStep, CORPUS)
    assert set(failures) == {r.name for r in MFA_RUNS}


LEAN = [r for r in CORPUS if took(r, PATCH_LEAN)]
BEFORE_LEAN = [r for r in CORPUS if not took(r, PATCH_LEAN)]


def test_the_lean_runs_issue_only_the_commands_the_job_needs() -> None:
    assert len(LEAN) >= 12, "record a batch with the lean commands (make histories)"
    first_runs = [r for r in LEAN if r.run == 1]
    for recorded in first_runs:
        scheduled = scheduled_activities(recorded.events)
        assert "inspect_selfie" not in scheduled and "acquire_token" not in scheduled
        assert "release_selfie" not in scheduled, "a local activity: a marker, not a schedule"
        stages = stage_upserts(recorded.events)
        assert "authenticating" not in stages, "a moment: in the details only"
    assert all("open_process" not in scheduled_activities(r.events) for r in BEFORE_LEAN)


async def test_histories_from_before_the_lean_commands_replay_unchanged() -> None:
    assert len({r.batch for r in BEFORE_LEAN}) >= 6
    assert await replay(Onboarding, BEFORE_LEAN) == {}


async def test_the_lean_change_without_its_guard_breaks_them() -> None:
    failures = await replay(OnboardingUnguardedLean, BEFORE_LEAN)
    first_runs = {r.name for r in BEFORE_LEAN if r.run == 1}
    assert first_runs <= set(failures)


LEAN_HISTORY = [r for r in CORPUS if has_patch(r.events, PATCH_LEAN_HISTORY)]
WITH_LAST_CALL = [r for r in CORPUS if has_patch(r.events, PATCH_SELFIE_WITH_LAST_CALL)]
BEFORE_LEAN_HISTORY = [r for r in CORPUS if r not in LEAN_HISTORY and r not in WITH_LAST_CALL]


def test_a_lean_history_run_records_one_marker_and_no_reasons_memo() -> None:
    assert len(LEAN_HISTORY) >= 12, "record a batch with lean-history (make histories)"
    for recorded in LEAN_HISTORY:
        assert patch_markers(recorded.events) == [PATCH_LEAN_HISTORY], recorded.name
        memos = of_kind(recorded.events, "WORKFLOW_PROPERTIES_MODIFIED")
        keys = {
            key
            for event in memos
            for key in event.workflow_properties_modified_event_attributes.upserted_memo.fields
        }
        assert "reasons" not in keys, recorded.name
    # Before it, a first run carried a marker per patch it took: two at least (a run that
    # continued as new never reached the selfie's release), up to five.
    older_first_runs = [r for r in BEFORE_LEAN_HISTORY if r.run == 1 and took(r, PATCH_LEAN)]
    assert older_first_runs
    assert all(len(patch_markers(r.events)) >= 2 for r in older_first_runs)


async def test_histories_from_before_lean_history_replay_unchanged() -> None:
    assert len({r.batch for r in BEFORE_LEAN_HISTORY}) >= 8
    assert await replay(Onboarding, BEFORE_LEAN_HISTORY) == {}


async def test_lean_history_without_its_guard_breaks_every_older_history() -> None:
    failures = await replay(OnboardingUnguardedLeanHistory, BEFORE_LEAN_HISTORY)
    assert set(failures) == {r.name for r in BEFORE_LEAN_HISTORY}


BEFORE_LAST_CALL = [r for r in CORPUS if r not in WITH_LAST_CALL]


def released_by_unico_call(recorded: Recorded) -> bool:
    """An `open_process` or `read_process` answer says the selfie went with it."""
    names = activity_names(recorded.events)
    for event in of_kind(recorded.events, "ACTIVITY_TASK_COMPLETED"):
        completed = event.activity_task_completed_event_attributes
        if names[completed.scheduled_event_id] in ("open_process", "read_process"):
            answer = payload_json(completed.result.payloads[0])
            if (answer.get("release") or {}).get("deleted"):
                return True
    return False


def released_at_the_end(recorded: Recorded) -> bool:
    """The `release_selfie` local activity ran (its marker names it)."""
    return any(
        b'"activity_type":"release_selfie"' in payload.data
        for event in of_kind(recorded.events, "MARKER_RECORDED")
        for payloads in event.marker_recorded_event_attributes.details.values()
        for payload in payloads.payloads
    )


def test_a_run_with_the_last_call_records_one_marker_and_reads_with_read_process() -> None:
    assert len(WITH_LAST_CALL) >= 12, "record a batch with selfie-with-last-call (make histories)"
    for recorded in WITH_LAST_CALL:
        assert patch_markers(recorded.events) == [PATCH_SELFIE_WITH_LAST_CALL], recorded.name
        assert "get_process" not in scheduled_activities(recorded.events), recorded.name
    assert all("read_process" not in scheduled_activities(r.events) for r in BEFORE_LAST_CALL)


def test_each_selfie_went_once_with_the_call_that_settled_it_or_at_the_end() -> None:
    ended = [r for r in WITH_LAST_CALL if r.outcome is not None]
    by_call = [r for r in ended if released_by_unico_call(r)]
    for recorded in ended:
        assert released_by_unico_call(recorded) != released_at_the_end(recorded), recorded.name
    # Most of the corpus ends on an answer that settled the process: their release costs no
    # local activity. The rest (refused, expired, error, no score) release at the end.
    assert len(by_call) >= len(ended) // 2, [r.name for r in by_call]
    assert {r.outcome for r in ended if r not in by_call} >= {"invalid_request", "error"}


async def test_histories_from_before_the_last_call_replay_unchanged() -> None:
    assert await replay(Onboarding, BEFORE_LAST_CALL) == {}


async def test_the_last_call_without_its_guard_breaks_the_older_histories_that_read() -> None:
    # Unguarded, it reads with `read_process` where they read with `get_process`; a run
    # that never read (Unico answered at once, or nothing was created) has no command that
    # differs on the `lean-history` path, but every older path does.
    failures = await replay(OnboardingUnguardedSelfieWithLastCall, BEFORE_LAST_CALL)
    read = {r.name for r in BEFORE_LAST_CALL if "get_process" in scheduled_activities(r.events)}
    older = {r.name for r in BEFORE_LAST_CALL if r not in LEAN_HISTORY}
    assert read | older <= set(failures)

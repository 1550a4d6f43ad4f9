"""The 1.0 corpus under the 1.0 rules: one path, every run pinned to the build that recorded
it, each error class's reaction recorded, each selfie released once, and a change to the
commands caught by replay. See docs/changing-the-workflow.md."""

from __future__ import annotations

import json

from devstack.history import activity_names, of_kind, patch_markers, scheduled_activities
from tests.replay.altered import (
    OnboardingWithAPause,
    OnboardingWithoutAccountStep,
    OnboardingWithoutMfaStep,
)
from tests.replay.cases import REACTION_FAULTS
from tests.replay.corpus import (
    Recorded,
    current_release,
    load_corpus,
    manifest_of,
    payload_json,
    replay,
)
from workflows import REACTIONS
from workflows.reactions import Remedy

CORPUS = load_corpus()


def test_the_corpus_is_of_this_release() -> None:
    assert CORPUS, f"record a batch of release {current_release()} (make histories)"
    assert {manifest_of(r.path.parent)["release"] for r in CORPUS} == {current_release()}


def test_one_path_no_patch_marker_anywhere() -> None:
    assert [r.name for r in CORPUS if patch_markers(r.events)] == []


def test_every_workflow_task_ran_pinned_on_the_build_that_recorded_it() -> None:
    for recorded in CORPUS:
        build = manifest_of(recorded.path.parent)["build_id"]
        completed = of_kind(recorded.events, "WORKFLOW_TASK_COMPLETED")
        assert completed, recorded.name
        for event in completed:
            attributes = event.workflow_task_completed_event_attributes
            assert attributes.deployment_version.build_id == build, recorded.name
            assert attributes.deployment_version.deployment_name == "onboarding"
            assert attributes.versioning_behavior == 1, "PINNED"  # VERSIONING_BEHAVIOR_PINNED


def reaction_cases(error_class: str) -> list[Recorded]:
    """The case of each batch that recorded `error_class`'s reaction."""
    recorded = [r for r in CORPUS if r.case == f"reaction-{error_class}"]
    assert len(recorded) == len({r.batch for r in CORPUS}), f"each batch records {error_class}"
    return recorded


def failed_types(recorded: Recorded) -> list[str]:
    return [
        event.activity_task_failed_event_attributes.failure.application_failure_info.type
        for event in of_kind(recorded.events, "ACTIVITY_TASK_FAILED")
    ]


def test_each_error_class_s_reaction_is_recorded() -> None:
    """Retried by the activity: a second attempt. Every other class: the failure came back
    to the workflow, which reacted (a new token, an operator's wait, a new process, or the
    end with the table's outcome). `gone` and `already_exists` come from scenarios (a GET
    answering 410, a person's existing account)."""
    recorded_elsewhere = {"gone", "already_exists"}
    assert set(REACTIONS) - recorded_elsewhere == set(REACTION_FAULTS)
    for error_class in REACTION_FAULTS:
        for recorded in reaction_cases(error_class):
            if REACTIONS[error_class].remedy is Remedy.RETRY_IN_ACTIVITY:
                attempts = [
                    event.activity_task_started_event_attributes.attempt
                    for event in of_kind(recorded.events, "ACTIVITY_TASK_STARTED")
                ]
                assert max(attempts) >= 2, recorded.name
            else:
                assert error_class in failed_types(recorded), recorded.name
    gone = [r for r in CORPUS if "gone" in failed_types(r)]
    assert gone and all(r.case.endswith("00000000868-error") for r in gone)


def released_by_unico_call(recorded: Recorded) -> bool:
    """An `open_process` or `read_process` answer says the selfie went with it, and kept no
    evidence for a reviewer (that goes at the end)."""
    names = activity_names(recorded.events)
    for event in of_kind(recorded.events, "ACTIVITY_TASK_COMPLETED"):
        completed = event.activity_task_completed_event_attributes
        if names[completed.scheduled_event_id] in ("open_process", "read_process"):
            answer = payload_json(completed.result.payloads[0])
            release = answer.get("release") or {}
            if release.get("deleted") and not release.get("evidence"):
                return True
    return False


def released_at_the_end(recorded: Recorded) -> bool:
    """The `release_selfie` local activity ran (its marker names it)."""
    return any(
        b'"activity_type":"release_selfie"' in payload.data
        or json.dumps({"activity_type": "release_selfie"})[1:-1].encode() in payload.data
        for event in of_kind(recorded.events, "MARKER_RECORDED")
        for payloads in event.marker_recorded_event_attributes.details.values()
        for payload in payloads.payloads
    )


def test_each_selfie_went_once_with_the_call_that_settled_it_or_at_the_end() -> None:
    ended = [r for r in CORPUS if r.outcome is not None]
    by_call = [r for r in ended if released_by_unico_call(r)]
    for recorded in ended:
        assert released_by_unico_call(recorded) != released_at_the_end(recorded), recorded.name
    # Most of the corpus ends on an answer that settled the process: their release costs no
    # local activity. The rest (refused, expired, error, no score) release at the end.
    assert len(by_call) >= len(ended) // 2, [r.name for r in by_call]
    assert {r.outcome for r in ended if r not in by_call} >= {"invalid_request", "error"}


async def test_a_change_to_the_commands_breaks_every_history() -> None:
    failures = await replay(OnboardingWithAPause, CORPUS)
    assert set(failures) == {r.name for r in CORPUS}


async def test_dropping_a_step_breaks_exactly_the_histories_that_ran_it() -> None:
    for altered, activity in (
        (OnboardingWithoutAccountStep, "register_account"),
        (OnboardingWithoutMfaStep, "start_mfa_enrollment"),
    ):
        ran = {r.name for r in CORPUS if activity in scheduled_activities(r.events)}
        assert ran, activity
        assert set(await replay(altered, CORPUS)) == ran, activity

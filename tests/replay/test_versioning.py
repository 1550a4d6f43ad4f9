"""The versioning rule, proven on a real change: `stage-at-start` (OnboardingStage is
`validating` from the first workflow task) went in behind `workflow.patched` after the
first batch of histories was recorded. Those histories still replay; without the guard
they would not."""

from __future__ import annotations

from temporalio.api.enums.v1 import EventType

from tests.replay.altered import OnboardingUnguardedPatch
from tests.replay.corpus import Recorded, load_corpus
from tests.replay.test_replay import replay
from workflows.onboarding import PATCH_STAGE_AT_START, Onboarding

CORPUS = load_corpus()


def has_patch(recorded: Recorded, patch_id: str) -> bool:
    for event in recorded.history().events:
        if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
            continue
        for payloads in event.marker_recorded_event_attributes.details.values():
            if any(patch_id.encode() in payload.data for payload in payloads.payloads):
                return True
    return False


PRE_PATCH = [r for r in CORPUS if not has_patch(r, PATCH_STAGE_AT_START)]
# A run that continued as new resumes past the patched code, so only first runs take it.
PRE_PATCH_FIRST_RUNS = {r.name for r in PRE_PATCH if r.run == 1}


def test_the_corpus_keeps_histories_from_before_the_patch() -> None:
    assert len(PRE_PATCH_FIRST_RUNS) >= 12


async def test_pre_patch_histories_replay_against_the_patched_code() -> None:
    assert await replay(Onboarding, PRE_PATCH) == {}


async def test_the_same_change_without_the_guard_breaks_them() -> None:
    failures = await replay(OnboardingUnguardedPatch, PRE_PATCH)
    assert set(failures) == PRE_PATCH_FIRST_RUNS


def stage_upserts(recorded: Recorded) -> list[bytes]:
    """The OnboardingStage values the history upserts, in order."""
    values = []
    for event in recorded.history().events:
        attributes = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        if "OnboardingStage" in attributes.indexed_fields:
            values.append(attributes.indexed_fields["OnboardingStage"].data)
    return values


def test_histories_recorded_since_take_the_new_path() -> None:
    post_patch = [r for r in CORPUS if r.run == 1 and has_patch(r, PATCH_STAGE_AT_START)]
    assert len(post_patch) >= 12, "record a batch with the patched code (make histories)"
    assert all(stage_upserts(r)[0] == b'"validating"' for r in post_patch)
    assert all(stage_upserts(r)[0] != b'"validating"' for r in PRE_PATCH if r.run == 1)

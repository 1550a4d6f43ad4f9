"""The onboarding's current details read as a sentence and carry no personal data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from onboarding_client.contract.outcome import Outcome, Reason
from onboarding_client.contract.status import OnboardingStatus, Stage
from workflows.details import current_details


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (OnboardingStatus(stage=Stage.VALIDATING), "**Checking the request and the selfie**"),
        (
            OnboardingStatus(stage=Stage.CREATING, attempts=2),
            "**Creating the Unico process**\n\nattempt 2",
        ),
        (
            OnboardingStatus(
                stage=Stage.WAITING, process_id="p-1", unico_status=1, attempts=1, polls=1
            ),
            "**Waiting for Unico**\n\n"
            "Unico process `p-1`, status 1 (processing), attempt 1, 1 read",
        ),
        (
            OnboardingStatus(stage=Stage.DECIDED, outcome=Outcome.REVIEW, polls=3),
            "**Decided**: `review`\n\n3 reads",
        ),
        (
            OnboardingStatus(stage=Stage.WAITING, unico_status=9),
            "**Waiting for Unico**\n\nstatus 9 (unknown)",
        ),
    ],
)
def test_headline_and_facts(status: OnboardingStatus, expected: str) -> None:
    assert current_details(status) == expected


def test_the_next_read_and_the_reasons() -> None:
    text = current_details(
        OnboardingStatus(stage=Stage.WAITING),
        next_read_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        reasons=[Reason(code="score.review", message="risk score 28: the client evaluates")],
    )
    assert "Next read at 03:04:05 UTC, or at once when Unico's webhook arrives." in text
    assert text.endswith("- `score.review`: risk score 28: the client evaluates")


@pytest.mark.parametrize("stage", list(Stage))
def test_every_stage_has_words(stage: Stage) -> None:
    # A stage without words would fail the workflow task that enters it.
    assert current_details(OnboardingStatus(stage=stage)).startswith("**")


def test_a_blocked_onboarding_says_what_blocks_it() -> None:
    status = OnboardingStatus(
        stage=Stage.BLOCKED_CONFIGURATION,
        blocked_by=Reason(code="unico.10201", message="APIKEY refused"),
    )
    assert "Blocked by `unico.10201`: APIKEY refused" in current_details(status)

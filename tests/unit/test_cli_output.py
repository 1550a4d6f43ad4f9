"""What a script and a person read from `onboarding`: the exit codes (the README's table is
the code's) and the `status` command's fields, every value in one column."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from onboarding.cli.common import Exit, dump, outcome_exit, status_text
from onboarding_client.contract.outcome import Outcome, Reason
from onboarding_client.contract.status import OnboardingStatus, Stage

README = Path(__file__).parents[2] / "README.md"


@pytest.mark.parametrize("outcome", list(Outcome))
def test_only_a_refused_request_makes_a_waited_onboarding_exit_1(outcome: Outcome) -> None:
    expected = Exit.ANSWERED_NO if outcome is Outcome.INVALID_REQUEST else Exit.DONE
    assert outcome_exit(outcome) == expected


def test_the_readme_table_lists_every_exit_code_and_no_other() -> None:
    text = README.read_text().split("## The `onboarding` command", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| ", text, re.MULTILINE)
    assert [int(code) for code in rows] == sorted(code.value for code in Exit)
    # argparse's usage errors exit 2 by themselves: the table's "could not run".
    assert int(Exit.COULD_NOT_RUN) == 2


def every_field() -> OnboardingStatus:
    return OnboardingStatus(
        stage=Stage.BLOCKED_CONFIGURATION,
        unico_status=1,
        process_id="p-1",
        attempts=2,
        polls=3,
        outcome=Outcome.REVIEW,
        blocked_by=Reason(code="unico.10201", message="the API key is wrong"),
        ambiguous_creates=1,
        review_deadline=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        selfie="image",
    )


def value_columns(text: str) -> set[int]:
    return {line.index(": ") + 2 for line in text.splitlines()}


def test_status_puts_every_value_in_one_column() -> None:
    status = dump(every_field())
    text = status_text(status)
    lines = text.splitlines()
    assert [line.split(":", 1)[0].strip() for line in lines] == list(status)
    assert len(value_columns(text)) == 1, text
    assert "blocked_by: unico.10201: the API key is wrong" in text


def test_status_keeps_its_column_when_fields_are_unset() -> None:
    full = status_text(dump(every_field()))
    bare = status_text(dump(OnboardingStatus(stage=Stage.WAITING)))
    assert value_columns(bare) == value_columns(full)
    assert "outcome" not in bare, "an unset field is not shown"

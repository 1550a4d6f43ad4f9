"""The reviewer's side, without a server: what an answer may say, and when a review is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError

from onboarding.cli.review import waiting_table
from onboarding.temporal.reviews import span_text
from onboarding_client.contract.outcome import Reason
from onboarding_client.contract.review import ReviewBrief, ReviewDecision, parse_review_answer
from onboarding_client.reviews import WaitingReview

SINCE = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def waiting(hours: float = 48) -> WaitingReview:
    brief = ReviewBrief(
        reasons=[Reason(code="score.review", message="risk score 28: the client evaluates")],
        score=28,
        process_id="p-1",
        waiting_since=SINCE,
        deadline=SINCE + timedelta(hours=hours),
    )
    return WaitingReview("order-1", brief)


@pytest.mark.parametrize(
    "reviewer", ["ana", "ana.silva", "ana+review@bank.example", "op-17", "A_B", "x"]
)
def test_operator_ids_as_directories_write_them(reviewer: str) -> None:
    answer = parse_review_answer({"decision": "approved", "reviewer": reviewer})
    assert (answer.decision, answer.reviewer) == (ReviewDecision.APPROVED, reviewer)


@pytest.mark.parametrize("reviewer", [".ana", "ana.", "ana b", "ana\n", "ána", "a" * 65])
def test_other_reviewer_ids_are_refused(reviewer: str) -> None:
    with pytest.raises(ApplicationError) as refused:
        parse_review_answer({"decision": "approved", "reviewer": reviewer})
    assert refused.value.type == "review.invalid_reviewer"
    assert refused.value.non_retryable


def test_a_note_keeps_its_words_and_loses_its_margins() -> None:
    answer = parse_review_answer(
        {"decision": "rejected", "reviewer": "ana", "note": "  não confere com o documento  "}
    )
    assert answer.note == "não confere com o documento"
    blank = parse_review_answer({"decision": "rejected", "reviewer": "ana", "note": "   "})
    assert blank.note is None


@pytest.mark.parametrize("invisible", ["\u200b", "\u202e", "\x00", "\r"])
def test_a_note_with_invisible_characters_is_refused(invisible: str) -> None:
    with pytest.raises(ApplicationError) as refused:
        parse_review_answer({"decision": "approved", "reviewer": "ana", "note": f"ok{invisible}"})
    assert refused.value.type == "review.invalid_note"


def test_a_wrong_type_names_the_field() -> None:
    with pytest.raises(ApplicationError) as refused:
        parse_review_answer({"decision": "approved", "reviewer": 7})
    assert (refused.value.type, refused.value.message.split(":")[0]) == (
        "review.malformed",
        "reviewer",
    )


@pytest.mark.parametrize(
    ("elapsed_hours", "due_soon"), [(0, False), (35.9, False), (36, True), (50, True)]
)
def test_the_reminder_flags_the_last_quarter_of_a_review_s_time(
    elapsed_hours: float, due_soon: bool
) -> None:
    now = SINCE + timedelta(hours=elapsed_hours)
    review = waiting()
    assert review.due_soon(now) is due_soon
    assert review.waited(now) == timedelta(hours=elapsed_hours)
    assert review.due_in(now) == timedelta(hours=48 - elapsed_hours)


def test_the_list_shows_what_a_reviewer_decides_on() -> None:
    now = SINCE + timedelta(hours=40)
    lines = waiting_table([waiting()], now).splitlines()
    assert lines[0].split() == ["request", "id", "score", "waited", "due", "in", "reasons"]
    row = lines[2].split()
    assert row[:2] == ["order-1", "28"]
    assert " ".join(row[2:]) == "40.0 h 8.0 h score.review DUE SOON"
    assert waiting_table([], now) == "no review is waiting"


@pytest.mark.parametrize(
    ("seconds", "text"), [(45, "45 s"), (720, "12 min"), (12_600, "3.5 h"), (-30, "-30 s")]
)
def test_spans_read_as_a_reviewer_reads_them(seconds: float, text: str) -> None:
    assert span_text(timedelta(seconds=seconds)) == text

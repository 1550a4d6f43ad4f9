"""The reviewers' console on the stack as users run it: reviewers log in at the identity
provider (the sandbox's Auth0 stand-in), see the queue, open a case and answer it; the
answer names the verified login. A person without a reviewer's role sees no case, and a
form without its CSRF token answers nothing (the other tools' refusals:
tests/e2e/test_review_tools.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from devstack.console_client import NO_ROLE, REVIEWER, SENIOR_REVIEWER, ConsoleUser, hidden_fields
from tests.e2e.local_stack import SELFIE, Stack, result_of, review_waiting, running_stack

pytestmark = pytest.mark.e2e

REVIEW_CPF = "00000000353"  # Unico answers score 28: a review
FOUR_EYES_CPF = "00000001244"  # score -25: an approval needs a senior's confirmation


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("console") / "stack") as running:
        yield running


def console(stack: Stack) -> ConsoleUser:
    return ConsoleUser(f"http://127.0.0.1:{stack.ports['console']}")


async def test_a_reviewer_logs_in_opens_a_case_and_answers_it(stack: Stack) -> None:
    review_waiting(stack, "console-approve")
    async with console(stack) as ana:
        anonymous = await ana.get("/reviews")
        assert anonymous.url.path == "/login", "no session: the login page"
        landed = await ana.log_in(*REVIEWER)
        assert (landed.status_code, landed.url.path) == (200, "/reviews")
        assert "console-approve" in landed.text and "ana@reviewers.example" in landed.text
        case = await ana.get("/reviews/console-approve")
        assert case.status_code == 200
        image = await ana.get("/reviews/console-approve/evidence")
        assert image.status_code == 200 and image.content == SELFIE.read_bytes()
        assert image.headers["cache-control"] == "no-store"
        evidence = stack.state_dir / "selfies" / "evidence"
        assert [p.read_bytes()[:3] for p in evidence.iterdir()] == [b"e1."], "sealed at rest"
        assert "score.review" in case.text and ">28 (band review_positive)<" in case.text
        answered = await ana.answer(
            "console-approve", "approved", "documents.match", "conferido por telefone"
        )
        assert answered.url.path == "/reviews" and "console-approve: approved" in answered.text
    review = result_of(stack, "console-approve")["review"]
    assert (review["reviewer"], review["reviewer_id"]) == ("ana@reviewers.example", "auth0|ana")
    assert list(evidence.iterdir()) == [], "the image goes when the review ends"
    async with console(stack) as ana, console(stack) as bruno:
        await ana.log_in(*REVIEWER)
        assert (await ana.get("/audit")).status_code == 403, "a reviewer is no auditor"
        await bruno.log_in(*SENIOR_REVIEWER)
        audit = await bruno.get("/audit")
        row = re.search(
            r"<tr><td>[^<]+</td><td>ana@reviewers.example</td>.*?console-approve", audit.text
        )
        assert row is not None, "the view is recorded: who, when, which case"
        assert "Maria" not in audit.text and REVIEW_CPF not in audit.text, "no customer data"
    assert (review["decision"], review["reason"], review["note"]) == (
        "approved",
        "documents.match",
        "conferido por telefone",
    )


async def test_a_wrong_password_and_a_role_without_review_rights(stack: Stack) -> None:
    async with console(stack) as stranger:
        refused = await stranger.log_in(REVIEWER[0], "guess")
        assert refused.status_code == 401 and "Wrong email or password." in refused.text
    async with console(stack) as carla:
        landed = await carla.log_in(*NO_ROLE)
        assert landed.status_code == 403 and "no reviewer role" in landed.text
        assert (await carla.get("/reviews/anything")).status_code == 403


async def test_a_form_without_its_csrf_token_or_with_a_bad_reason_answers_nothing(
    stack: Stack,
) -> None:
    review_waiting(stack, "console-forged")
    async with console(stack) as ana:
        await ana.log_in(*REVIEWER)
        forged = await ana.http.post(
            f"{ana.console_url}/reviews/console-forged/decision",
            data={"decision": "approved", "reason": "documents.match"},
        )
        assert forged.status_code == 403 and "did not come from your session" in forged.text
        wrong = await ana.answer("console-forged", "approved", "fraud.suspected")
        assert wrong.status_code == 400 and "Choose a reason that explains approved" in wrong.text
        listed = json.loads(stack.onboarding("review", "list", "--json").stdout)
        assert "console-forged" in {row["request_id"] for row in listed}, "it still waits"
        rejected = await ana.answer("console-forged", "rejected", "fraud.suspected")
        assert "console-forged: rejected" in rejected.text


async def test_logging_out_ends_the_session(stack: Stack) -> None:
    async with console(stack) as ana:
        await ana.log_in(*REVIEWER)
        out = await ana.log_out()
        assert out.url.path == "/login" and "You are logged out." in out.text
        again = await ana.get("/reviews")
        assert again.url.path == "/login"


async def test_opening_a_case_holds_it_and_a_senior_can_release_it(stack: Stack) -> None:
    review_waiting(stack, "console-held")
    async with console(stack) as ana, console(stack) as bruno:
        await ana.log_in(*REVIEWER)
        await bruno.log_in(*SENIOR_REVIEWER)
        opened = await ana.get("/reviews/console-held")
        assert "You hold this case until" in opened.text
        queue = await bruno.get("/reviews")
        row = re.search(r"console-held</a>.*?</tr>", queue.text, re.DOTALL)
        assert row is not None and "ana@reviewers.example" in row.group(0), "who holds each"
        seen = await bruno.get("/reviews/console-held")
        assert "Held by ana@reviewers.example" in seen.text
        assert 'name="decision"' not in seen.text, "no answer form for another's case"
        refused = await bruno.answer("console-held", "rejected", "fraud.suspected")
        assert refused.status_code == 400 and "review.held" in refused.text
        released = await bruno.http.post(
            f"{bruno.console_url}/reviews/console-held/release", data=hidden_fields(seen.text)
        )
        assert "console-held: released" in released.text
        done = await bruno.answer("console-held", "rejected", "fraud.suspected")
        assert "console-held: rejected" in done.text
    assert result_of(stack, "console-held")["review"]["reviewer"] == "bruno@reviewers.example"


async def test_an_approval_against_the_signals_needs_a_senior_s_four_eyes(stack: Stack) -> None:
    review_waiting(stack, "console-four-eyes", FOUR_EYES_CPF)
    async with console(stack) as ana, console(stack) as bruno:
        await ana.log_in(*REVIEWER)
        case = await ana.get("/reviews/console-four-eyes")
        assert "***.000.012-**" in case.text and "Maria Silva" in case.text
        assert FOUR_EYES_CPF not in case.text, "the CPF is masked"
        assert "band review_negative" in case.text and "band.review_negative" in case.text
        assert "1 process created" in case.text
        first = await ana.answer("console-four-eyes", "approved", "documents.match", "ok")
        assert "console-four-eyes: approved, awaiting a senior reviewer" in first.text
        again = await ana.get("/reviews/console-four-eyes")
        assert "You approved it" in again.text and 'name="decision"' not in again.text
        await bruno.log_in(*SENIOR_REVIEWER)
        seen = await bruno.get("/reviews/console-four-eyes")
        assert "Approved by ana@reviewers.example" in seen.text
        confirmed = await bruno.answer(
            "console-four-eyes", "approved", "identity.confirmed_by_call"
        )
        assert "console-four-eyes: approved" in confirmed.text
    review = result_of(stack, "console-four-eyes")["review"]
    assert (review["reviewer"], review["first_review"]["reviewer"]) == (
        "bruno@reviewers.example",
        "ana@reviewers.example",
    )

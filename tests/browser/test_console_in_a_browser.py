"""The reviewers' console in a real browser, as KYC analysts use it: log in at the identity
provider's page, the queue, a case with its evidence, a hold seen by a second reviewer,
each decision, four eyes, a role without rights, an expired session, a forged form, and
logging out. Keyboard and labels: every control is found by its accessible name."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import console_url, log_in
from tests.e2e.local_stack import Stack, result_of, review_waiting

pytestmark = pytest.mark.e2e

ANA, BRUNO, CARLA = "ana@reviewers.example", "bruno@reviewers.example", "carla@support.example"


def answer(page: Page, reason_label: str, decision: str, note: str | None = None) -> None:
    page.get_by_label("Reason").select_option(label=reason_label)
    if note is not None:
        page.get_by_label(re.compile("^Note")).fill(note)
    page.get_by_role("button", name=decision).click()
    page.wait_for_load_state()


@pytest.mark.parametrize(
    ("decision", "button", "reason", "code"),
    [
        (
            "approved",
            "Approve",
            "The documents match the person (documents.match)",
            "documents.match",
        ),
        ("rejected", "Reject", "Signs of fraud (fraud.suspected)", "fraud.suspected"),
        (
            "recapture",
            "Ask for a new capture",
            "The image is dark, blurred or cut off (selfie.unclear)",
            "selfie.unclear",
        ),
    ],
)
def test_a_reviewer_logs_in_sees_the_evidence_and_decides(
    stack: Stack, context: BrowserContext, decision: str, button: str, reason: str, code: str
) -> None:
    request_id = f"browser-{decision}"
    review_waiting(stack, request_id)
    page = context.new_page()
    log_in(page, console_url(stack), ANA)
    expect(page).to_have_url(re.compile("/reviews$"))
    expect(page.get_by_role("link", name=request_id)).to_be_visible()
    page.get_by_role("link", name=request_id).click()
    expect(page.get_by_role("heading", name=f"Review {request_id}")).to_be_visible()
    expect(page.get_by_text("You hold this case until")).to_be_visible()
    image = page.get_by_role("img", name=re.compile("The image the person gave"))
    expect(image).to_be_visible()
    # decode() waits for the image and fails on a broken one.
    assert image.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    answer(page, reason, button, note="checked in the browser")
    expect(page.get_by_role("status")).to_contain_text(f"{request_id}: {decision}")
    review = result_of(stack, request_id)["review"]
    assert (review["reviewer"], review["decision"], review["reason"]) == (ANA, decision, code)


def test_a_second_reviewer_sees_who_holds_a_case_and_cannot_answer_it(
    stack: Stack, browser: Browser
) -> None:
    review_waiting(stack, "browser-held")
    ana, bruno = browser.new_context(), browser.new_context()
    try:
        first, second = ana.new_page(), bruno.new_page()
        log_in(first, console_url(stack), ANA)
        first.goto(f"{console_url(stack)}/reviews/browser-held")
        log_in(second, console_url(stack), BRUNO)
        row = second.get_by_role("row").filter(has_text="browser-held")
        expect(row).to_contain_text(ANA)
        second.goto(f"{console_url(stack)}/reviews/browser-held")
        expect(second.get_by_text(f"Held by {ANA}")).to_be_visible()
        expect(second.get_by_role("button", name="Approve")).to_have_count(0)
        second.get_by_role("button", name="Release it (senior reviewer)").click()
        expect(second.get_by_role("status")).to_contain_text("browser-held: released")
    finally:
        ana.close()
        bruno.close()


def test_an_approval_against_the_signals_needs_a_senior_to_confirm_it(
    stack: Stack, browser: Browser
) -> None:
    review_waiting(stack, "browser-four-eyes", "00000001244")
    ana, bruno = browser.new_context(), browser.new_context()
    try:
        first = ana.new_page()
        log_in(first, console_url(stack), ANA)
        first.goto(f"{console_url(stack)}/reviews/browser-four-eyes")
        expect(first.get_by_text("an approval here waits for a senior")).to_be_visible()
        answer(first, "The documents match the person (documents.match)", "Approve")
        expect(first.get_by_role("status")).to_contain_text("awaiting a senior reviewer")
        second = bruno.new_page()
        log_in(second, console_url(stack), BRUNO)
        second.goto(f"{console_url(stack)}/reviews/browser-four-eyes")
        expect(second.get_by_role("heading", name="Awaiting a second reviewer")).to_be_visible()
        answer(second, "Identity confirmed by a call (identity.confirmed_by_call)", "Approve")
        expect(second.get_by_role("status")).to_contain_text("browser-four-eyes: approved")
    finally:
        ana.close()
        bruno.close()
    review = result_of(stack, "browser-four-eyes")["review"]
    assert (review["reviewer"], review["first_review"]["reviewer"]) == (BRUNO, ANA)


def test_a_person_without_a_reviewer_role_sees_no_case(
    stack: Stack, context: BrowserContext
) -> None:
    page = context.new_page()
    log_in(page, console_url(stack), CARLA)
    expect(page.get_by_role("heading", name="No reviewer role")).to_be_visible()
    expect(page.get_by_role("table")).to_have_count(0)


def test_a_form_without_its_csrf_token_is_refused(stack: Stack, context: BrowserContext) -> None:
    review_waiting(stack, "browser-forged")
    page = context.new_page()
    log_in(page, console_url(stack), ANA)
    page.goto(f"{console_url(stack)}/reviews/browser-forged")
    page.locator('input[name="csrf_token"]').last.evaluate("input => input.remove()")
    answer(page, "The documents match the person (documents.match)", "Approve")
    expect(page.get_by_role("heading", name="The form was refused")).to_be_visible()
    listed = stack.onboarding("review", "list")
    assert "browser-forged" in listed.stdout, "it still waits"


def test_a_session_idle_too_long_ends_and_logging_out_ends_it_at_once(
    stack: Stack, context: BrowserContext, impatient_console: str
) -> None:
    page = context.new_page()
    log_in(page, impatient_console, ANA)
    expect(page).to_have_url(re.compile("/reviews$"))
    time.sleep(3)  # the impatient console ends a session after 2 s without a request
    page.goto(f"{impatient_console}/reviews")
    expect(page.get_by_role("status")).to_contain_text("Your session ended")
    other = context.new_page()
    log_in(other, console_url(stack), ANA)
    other.get_by_role("button", name="Log out").click()
    expect(other.get_by_role("status")).to_contain_text("You are logged out.")
    other.goto(f"{console_url(stack)}/reviews")
    expect(other).to_have_url(re.compile("/login"))


def test_the_pages_render_on_a_laptop_screen(
    stack: Stack, context: BrowserContext, tmp_path: Path
) -> None:
    """The queue and a case, drawn: docs/console.md's screenshots are these
    (`CONSOLE_SCREENSHOTS=docs/screenshots pytest tests/browser -k laptop` remakes them)."""
    shots = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path)
    review_waiting(stack, "order-1244", "00000001244")
    page = context.new_page()
    log_in(page, console_url(stack), ANA)
    page.screenshot(path=shots / "console-queue.png", full_page=True)
    page.goto(f"{console_url(stack)}/reviews/order-1244")
    image = page.get_by_role("img", name=re.compile("The image the person gave"))
    image.evaluate("img => img.decode()")
    page.screenshot(path=shots / "console-case.png", full_page=True)
    for name in ("console-queue.png", "console-case.png"):
        assert (shots / name).stat().st_size > 10_000, name
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, "nothing runs off a laptop's screen"

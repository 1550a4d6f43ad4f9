"""The console's proof of a verified reviewer: the worker's keys as settings read them, and
what `verify_proof` refuses (the workflow's own checks are in tests/workflow/test_review.py);
and the console's session: its idle timeout and CSRF token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError

from contracts.review_proof import (
    AnswerBinding,
    SignerKeyError,
    TrustedSigners,
    parse_signer_keys,
    sign_proof,
    verify_proof,
)
from onboarding.console import sessions
from tests.reviewers import ANA, TEST_CONSOLE_KEY, TEST_CONSOLE_KEY_ID, TEST_SIGNER_KEYS

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
BINDING = AnswerBinding("onboarding-r-1", "approved", "docs.match", "conferido")
TRUSTED = TrustedSigners(parse_signer_keys(TEST_SIGNER_KEYS))


def proof(now: datetime = NOW) -> str:
    return sign_proof(TEST_CONSOLE_KEY, TEST_CONSOLE_KEY_ID, ANA, BINDING, now)


def test_a_proof_names_the_reviewer_it_was_signed_for() -> None:
    assert verify_proof(proof(), BINDING, NOW + timedelta(seconds=299), TRUSTED) == ANA


@pytest.mark.parametrize(
    ("signed", "checked_at", "signers", "code"),
    [
        (None, NOW, TRUSTED, "review.unverified"),
        ("ok", NOW, TrustedSigners(), "review.unverified"),
        ("ok", NOW + timedelta(seconds=301), TRUSTED, "review.invalid_proof"),
        ("ok", NOW - timedelta(minutes=5), TRUSTED, "review.invalid_proof"),
        ("x.y.z", NOW, TRUSTED, "review.invalid_proof"),
    ],
    ids=["no proof", "no key trusted", "expired", "issued in the future", "not a token"],
)
def test_refusals(
    signed: str | None, checked_at: datetime, signers: TrustedSigners, code: str
) -> None:
    given = proof() if signed == "ok" else signed
    with pytest.raises(ApplicationError) as refused:
        verify_proof(given, BINDING, checked_at, signers)
    assert refused.value.type == code and refused.value.non_retryable
    assert given is None or given not in refused.value.message


def test_signer_keys_are_read_in_rotation_and_refused_in_one_line() -> None:
    entry = TEST_SIGNER_KEYS
    both = parse_signer_keys(f"{entry}\n# the next one\n{entry.replace('test-console-1', 'next')}")
    assert sorted(both) == ["next", "test-console-1"]
    assert parse_signer_keys("") == {}
    for text, words in [
        ("no-colon", "kid:base64url-key"),
        ("k:not-base64!", "not a base64url Ed25519"),
        (f"{entry},{entry}", "listed twice"),
    ]:
        with pytest.raises(SignerKeyError, match=words):
            parse_signer_keys(text)


def test_a_session_ends_after_its_idle_time_and_a_login_starts_a_new_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session: dict[str, object] = {"next": "/reviews/r-1", "stale": True}
    clock = [1000.0]
    monkeypatch.setattr("onboarding.console.sessions.time.time", lambda: clock[0])
    sessions.log_in(session, ANA)
    assert "stale" not in session, "nothing of an earlier session is kept"
    token = sessions.csrf_token(session)
    assert sessions.csrf_ok(session, token) and not sessions.csrf_ok(session, token + "x")
    clock[0] += 899
    assert sessions.current_reviewer(session, 900) == (ANA, False), "a request keeps it alive"
    clock[0] += 901
    assert sessions.current_reviewer(session, 900) == (None, True), "idle too long: ended"
    assert session == {} and not sessions.csrf_ok(session, token)

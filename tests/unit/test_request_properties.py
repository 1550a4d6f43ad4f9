"""Properties of request parsing, over generated inputs: it never raises, and every refusal
is a documented Unico input code with a message that repeats no personal data."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from onboarding_client.contract.cpf import is_valid_cpf
from onboarding_client.contract.outcome import Reason
from onboarding_client.contract.request import OnboardingRequest
from tests.requests_strategies import DOCUMENTED_INPUT_CODES, any_input, requests, valid_requests
from workflows.requests import parse_request

PROPERTY = settings(max_examples=150, deadline=None, database=None)


def personal_values(raw: Any) -> list[str]:
    subject = raw.get("subject") if isinstance(raw, dict) else None
    if not isinstance(subject, dict):
        return []
    values = [subject.get(k) for k in ("code", "name", "email", "phone")]
    return [v.strip() for v in values if isinstance(v, str) and len(v.strip()) >= 5]


@PROPERTY
@given(any_input)
def test_any_input_is_a_request_or_a_documented_refusal(raw: Any) -> None:
    parsed = parse_request(raw)
    if isinstance(parsed, Reason):
        system, _, code = parsed.code.partition(".")
        assert system == "unico" and int(code) in DOCUMENTED_INPUT_CODES
        assert parsed.message
        for value in personal_values(raw):
            assert value not in parsed.message
    else:
        assert isinstance(parsed, OnboardingRequest)
        assert is_valid_cpf(parsed.subject.code)


@PROPERTY
@given(valid_requests())
def test_valid_requests_are_accepted_and_normalised(raw: dict[str, Any]) -> None:
    parsed = parse_request(raw)
    assert isinstance(parsed, OnboardingRequest), parsed
    assert parsed.subject.code.isdigit() and len(parsed.subject.code) == 11
    assert parsed.subject.phone is None or parsed.subject.phone.isdigit()
    # Parsing is idempotent: what the workflow accepted, it accepts again unchanged.
    assert parse_request(parsed.model_dump(mode="json")) == parsed


@PROPERTY
@given(requests())
def test_near_valid_requests_never_raise(raw: dict[str, Any]) -> None:
    assert isinstance(parse_request(raw), OnboardingRequest | Reason)

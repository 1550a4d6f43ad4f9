"""The static summary and details of an onboarding: what it is and how it waits, no PII."""

from __future__ import annotations

import pytest

from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.summary import duration, static_details, static_summary


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(2, "2 s"), (0.5, "0.5 s"), (60, "60 s"), (90, "90 s"), (300, "5 min"), (86400, "24 h")],
)
def test_durations_read_as_an_operator_says_them(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_summary_and_details_name_the_request_not_the_person() -> None:
    request = OnboardingRequest.model_validate(
        {
            "request_id": "order-1234",
            "subject": {"code": "12345678909", "name": "Maria Silva", "email": "m@example.com"},
            "selfie_ref": "local:" + "a" * 32,
        }
    )
    summary, details = static_summary(request), static_details(request)
    assert summary == "Unico identity check, use case Onboarding"
    assert "first read after 2 s, x2 up to 60 s, or at once on Unico's webhook;" in details
    assert "deadline 24 h; up to 3 Unico process(es)" in details
    shown = summary + details
    for wait, said in ((120, "(awaited 2 min first)"), (0, "(not awaited)")):
        options = {"webhook_wait_seconds": wait}
        chosen = request.model_copy(update={"options": request.options.model_copy(update=options)})
        assert f"or at once on Unico's webhook {said};" in static_details(chosen)
    assert not [v for v in ("12345678909", "Maria", "example.com", "a" * 32) if v in shown]

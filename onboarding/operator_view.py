"""The static summary and details an onboarding carries in the Web UI, set at start.

They say what kind of onboarding this is and how it will wait, never who it is about: no
CPF (not even masked), name, contact or selfie reference. Those stay in the workflow input,
which the Web UI shows only to whoever can read (and, with a codec, decode) payloads.
"""

from __future__ import annotations

from workflows.models import OnboardingRequest


def static_summary(request: OnboardingRequest) -> str:
    return f"Unico identity check, use case {request.use_case}"


def static_details(request: OnboardingRequest) -> str:
    options, bands = request.options, request.options.bands
    return "\n\n".join(
        [
            f"**Request** `{request.request_id}`, use case `{request.use_case}`, "
            f"subsidiary `{request.subsidiary_id or '-'}`",
            f"**Waiting** first read after {options.poll_initial_seconds:g} s, "
            f"x{options.poll_backoff:g} up to {options.poll_max_seconds:g} s, or at once on "
            f"Unico's webhook; deadline {options.deadline_seconds:g} s; up to "
            f"{options.max_process_attempts} Unico process(es)",
            f"**Score bands** deny <= {bands.deny_max}, review <= {bands.review_negative_max} "
            f"or >= {bands.review_positive_min}, approve >= {bands.approve_min}",
            "Personal data stays out of summaries, search attributes and memo.",
        ]
    )

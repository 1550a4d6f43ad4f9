"""The static summary and details an onboarding carries in the Web UI, set at start.

They say what kind of onboarding this is and how it will wait, never who it is about: no
CPF (not even masked), name, contact or selfie reference. Those stay in the workflow input,
which the Web UI shows only to whoever can read (and, with a codec, decode) payloads.
"""

from __future__ import annotations

from onboarding_client.contract.request import OnboardingRequest


def static_summary(request: OnboardingRequest) -> str:
    return f"Unico identity check, use case {request.use_case}"


def static_details(request: OnboardingRequest) -> str:
    options, bands = request.options, request.options.bands
    return "\n\n".join(
        [
            f"**Request** `{request.request_id}`, use case `{request.use_case}`, "
            f"subsidiary `{request.subsidiary_id or '-'}`",
            f"**Waiting** first read after {duration(options.poll_initial_seconds)}, "
            f"x{options.poll_backoff:g} up to {duration(options.poll_max_seconds)}, or at once "
            f"on Unico's webhook{_webhook_wait(options.webhook_wait_seconds)}; "
            f"deadline {duration(options.deadline_seconds)}; up to "
            f"{options.max_process_attempts} Unico process(es)",
            f"**Score bands** deny <= {bands.deny_max}, review <= {bands.review_negative_max} "
            f"or >= {bands.review_positive_min}, approve >= {bands.approve_min}",
            "Personal data stays out of summaries, search attributes and memo.",
        ]
    )


def _webhook_wait(seconds: float | None) -> str:
    """The request's own wait for the webhook before the first read (None: the deployment's,
    which a client cannot know)."""
    if seconds is None:
        return ""
    return f" (awaited {duration(seconds)} first)" if seconds else " (not awaited)"


def duration(seconds: float) -> str:
    """`2 s`, `90 s`, `5 min`, `24 h`: the largest whole unit, as an operator reads it."""
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= 2 * size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"

"""The onboarding's "current details" in the Web UI: where it is, in words. Pure.

Temporal serves these through a built-in query, so they cost no history; they carry ids,
statuses and reasons only, never personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from onboarding_client.contract.outcome import Reason
from onboarding_client.contract.status import OnboardingStatus, Stage

STAGE_WORDS = {
    Stage.VALIDATING: "Checking the request and the selfie",
    Stage.AUTHENTICATING: "Getting a Unico access token",
    Stage.CREATING: "Creating the Unico process",
    Stage.WAITING: "Waiting for Unico",
    Stage.DECIDED: "Decided",
    Stage.BLOCKED_CONFIGURATION: "Blocked: a remote system refuses our configuration (an operator "
    "must act)",
    Stage.BLOCKED_LOCKED: "Blocked: the service account is locked (retrying after a pause)",
    Stage.AWAITING_REVIEW: "Waiting for a reviewer",
    Stage.REGISTERING: "Registering the account in Identity Cloud",
    Stage.AWAITING_OTP: "Waiting for the person's MFA code (sent by SMS)",
}
UNICO_STATUS_WORDS = {
    1: "processing",
    2: "divergence, in analysis",
    3: "finished",
    4: "canceled",
    5: "error",
}


SELFIE_WORDS = {
    "capture": "a capture of Unico's SDK (liveness checked)",
    "image": "a plain image (no liveness check)",
}


def current_details(
    status: OnboardingStatus,
    *,
    next_read_at: datetime | None = None,
    reasons: Sequence[Reason] = (),
) -> str:
    """Markdown for the Web UI: a headline, the Unico facts, what happens next, and why."""
    headline = f"**{STAGE_WORDS[status.stage]}**"
    if status.outcome is not None:
        headline += f": `{status.outcome.value}`"
    facts = []
    if status.process_id:
        facts.append(f"Unico process `{status.process_id}`")
    if status.unico_status is not None:
        words = UNICO_STATUS_WORDS.get(status.unico_status, "unknown")
        facts.append(f"status {status.unico_status} ({words})")
    if status.attempts:
        facts.append(f"attempt {status.attempts}")
    if status.selfie is not None:  # the kind only: no personal data
        facts.append(SELFIE_WORDS[status.selfie])
    if status.polls:
        facts.append(f"{status.polls} read{'s' if status.polls != 1 else ''}")
    lines = [headline]
    if facts:
        lines.append(", ".join(facts))
    if status.blocked_by is not None:
        lines.append(f"Blocked by `{status.blocked_by.code}`: {status.blocked_by.message}")
    if next_read_at is not None:
        lines.append(
            f"Next read at {next_read_at:%H:%M:%S} UTC, or at once when Unico's webhook arrives."
        )
    if status.stage is Stage.AWAITING_REVIEW and status.review_deadline is not None:
        lines.append(
            f"Due by {status.review_deadline:%Y-%m-%d %H:%M} UTC: answer with update `review` "
            '(`{"decision": "approved" | "rejected" | "recapture", "reviewer": "<id>"}`).'
        )
    if status.stage is Stage.AWAITING_OTP:
        lines.append(
            'The app sends the code with update `submit_otp` (`{"code": "123456"}`), or asks '
            "for another SMS with `resend_otp`."
        )
    lines += [f"- `{reason.code}`: {reason.message}" for reason in reasons]
    return "\n\n".join(lines)

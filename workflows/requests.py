"""Turns whatever a caller sent into an `OnboardingRequest`, or into Unico's refusal code.

The workflow takes its input as raw JSON so that a malformed request never fails a
workflow task (which Temporal would retry forever): it ends the onboarding with outcome
`invalid_request` and the code Unico itself would have answered. Every check here runs
before any call to Unico (`REFUSALS` lists them, and the docs show that table); the image's
own checks run in the `open_process` activity, before its create.

20003 is Unico's "the request body is missing or invalid": the closest documented code for a
field that Unico names no code for. Messages name the field and the rule, never the value.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from onboarding_client.contract.cpf import is_valid_cpf, normalize_cpf, request_id_exposes_cpf
from onboarding_client.contract.names import workflow_id_for
from onboarding_client.contract.outcome import Reason
from onboarding_client.contract.request import OnboardingRequest, Subject
from workflows.contact import (
    is_valid_email,
    is_valid_phone,
    name_problem,
    normalize_name,
    normalize_phone,
)

# Unico's input codes (seed 004) for the fields it names; anything else is a bad body.
_MISSING_FIELD_CODES: dict[tuple[str, ...], int] = {
    ("subject",): 20004,
    ("subject", "code"): 20005,
    ("subject", "name"): 20006,
    ("selfie_ref",): 20009,
}
INVALID_BODY = 20003
MISSING_CPF = 20005
MISSING_NAME = 20006
INVALID_CPF = 20507
CPF_FIELD = ("subject", "code")

# Bounded so that no value overflows a timer or keeps an onboarding (and its selfie) for
# years; far wider than any real use.
OPTION_RANGES: dict[str, tuple[float, float]] = {
    "poll_initial_seconds": (0.1, 3600),
    "poll_max_seconds": (0.1, 24 * 3600),
    "poll_backoff": (1, 10),
    "deadline_seconds": (1, 30 * 24 * 3600),
    "max_process_attempts": (1, 10),
}
WEBHOOK_WAIT_MAX_SECONDS = 3600  # the first read, however late the webhook: within an hour
# The waits while an operator fixes the account or a lock-out runs out
# (`options.configuration_retry`, `options.locked_retry`).
RETRY_SCHEDULE_RANGES: dict[str, tuple[float, float]] = {
    "initial_seconds": (1, 24 * 3600),
    "max_seconds": (1, 7 * 24 * 3600),
    "backoff": (1, 10),
}
SCORE_RANGE = (-100, 100)
REVIEW_DEADLINE_RANGE = (60, 30 * 24 * 3600)  # a minute to 30 days
ACCOUNT_DEADLINE_RANGE = (60, 7 * 24 * 3600)  # a minute to a week
MFA_DEADLINE_RANGE = (60, 24 * 3600)  # a minute to a day: a person is waiting for an SMS
USE_CASE_MAX_LENGTH = 64
SELFIE_REF_MAX_LENGTH = 256
_SUBSIDIARY_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


# Every refusal, with the Unico code it answers: the table the docs show (a test keeps both
# the same, and another that each rule answers its code).
REFUSALS: tuple[tuple[str, int], ...] = (
    (
        'not a JSON object; a field of the wrong type (`true` is not a number, `"5"` not a '
        "number either); a field we do not know (named in the message); a malformed "
        "`request_id`",
        INVALID_BODY,
    ),
    ("`subject` missing", 20004),
    ("`subject.code` missing or blank", MISSING_CPF),
    ("`subject.name` missing or blank", MISSING_NAME),
    ("`selfie_ref` missing", 20009),
    (
        "`subject.code` not 11 digits with valid check digits (`123.456.789-09` is accepted)",
        INVALID_CPF,
    ),
    (
        "`subject.name` over 200 characters, with control characters, or without letters",
        INVALID_BODY,
    ),
    ("`subject.email` not an address, or over 254 characters", INVALID_BODY),
    ("`subject.phone` not 10-13 digits once `+ ( ) - .` and spaces are dropped", INVALID_BODY),
    (
        "`request_id` containing the subject's CPF (it becomes the workflow id, stored in clear)",
        INVALID_BODY,
    ),
    ("`use_case` over 64 characters; `subsidiary_id` not 1-64 of `A-Z a-z 0-9 -`", INVALID_BODY),
    ("`selfie_ref` over 256 characters", INVALID_BODY),
    (
        "a workflow id other than `onboarding-<request_id>` (two ids for one request would make "
        "two Unico processes)",
        INVALID_BODY,
    ),
    (
        "an option out of range (`OPTION_RANGES`, `RETRY_SCHEDULE_RANGES`); a score band "
        "outside -100..100; a review deadline outside 1 min..30 days; an account step deadline "
        "outside 1 min..7 days; an MFA deadline outside 1 min..1 day",
        INVALID_BODY,
    ),
)

# What the MFA step needs, refused with Guardian's own client-side code (reason
# `mfa.field_required`) before any call: the docs show this table too.
MFA_FIELD_REQUIRED = "mfa.field_required"
MFA_REFUSALS: tuple[tuple[str, str], ...] = (
    ("`options.mfa.enroll` without `subject.phone` (Guardian's `phoneNumber`)", MFA_FIELD_REQUIRED),
    (
        "`options.mfa.enroll` without `options.mfa.user_id` or `options.account.register` (no "
        "Auth0 user to enroll)",
        MFA_FIELD_REQUIRED,
    ),
)


def refusal(code: int, message: str) -> Reason:
    return Reason(code=f"unico.{code}", message=message)


def parse_request(raw: Any) -> OnboardingRequest | Reason:
    """The validated request, or the one reason it is refused (the first Unico would give)."""
    if not isinstance(raw, dict):
        return refusal(INVALID_BODY, "the request must be a JSON object")
    try:
        request = OnboardingRequest.model_validate(raw)
    except ValidationError as exc:
        return _reason_for(exc)
    subject = _normalized(request.subject)
    if problem := _subject_problem(subject) or _request_problem(request, subject.code):
        return problem
    return request.model_copy(update={"subject": subject})


def refuse_other_workflow_ids(
    request: OnboardingRequest, workflow_id: str
) -> OnboardingRequest | Reason:
    """One request, one onboarding: the workflow id is the request's, so that Temporal's
    id uniqueness (not the caller's care) keeps a second start from a second process."""
    if workflow_id != workflow_id_for(request.request_id):
        return refusal(INVALID_BODY, "the workflow id must be onboarding-<request_id>")
    return request


def _normalized(subject: Subject) -> Subject:
    return Subject(
        code=normalize_cpf(subject.code.strip()),
        name=normalize_name(subject.name),
        email=subject.email.strip() if subject.email is not None else None,
        phone=normalize_phone(subject.phone) if subject.phone is not None else None,
    )


def _subject_problem(subject: Subject) -> Reason | None:
    if not subject.code:
        return refusal(MISSING_CPF, "subject.code is empty")
    if not subject.name:
        return refusal(MISSING_NAME, "subject.name is empty")
    if not is_valid_cpf(subject.code):
        return refusal(INVALID_CPF, "subject.code is not a valid CPF (11 digits, check digits)")
    if problem := name_problem(subject.name):
        return refusal(INVALID_BODY, f"subject.name {problem}")
    if subject.email is not None and not is_valid_email(subject.email):
        return refusal(INVALID_BODY, "subject.email is not an e-mail address")
    if subject.phone is not None and not is_valid_phone(subject.phone):
        return refusal(INVALID_BODY, "subject.phone must have 10 to 13 digits (DDD, number)")
    return None


def _request_problem(request: OnboardingRequest, cpf: str) -> Reason | None:
    if request_id_exposes_cpf(request.request_id, cpf):
        return refusal(INVALID_BODY, "request_id must not contain the CPF: it is stored in clear")
    if not 0 < len(request.use_case) <= USE_CASE_MAX_LENGTH:
        return refusal(INVALID_BODY, f"use_case must have 1 to {USE_CASE_MAX_LENGTH} characters")
    if request.subsidiary_id is not None and not _SUBSIDIARY_ID.fullmatch(request.subsidiary_id):
        return refusal(INVALID_BODY, "subsidiary_id must be 1 to 64 of A-Z a-z 0-9 -")
    if len(request.selfie_ref) > SELFIE_REF_MAX_LENGTH:
        return refusal(INVALID_BODY, f"selfie_ref is longer than {SELFIE_REF_MAX_LENGTH}")
    for name, (low, high) in OPTION_RANGES.items():
        if not low <= getattr(request.options, name) <= high:
            return refusal(INVALID_BODY, f"options.{name} must be from {low:g} to {high:g}")
    webhook_wait = request.options.webhook_wait_seconds
    if webhook_wait is not None and webhook_wait > WEBHOOK_WAIT_MAX_SECONDS:
        return refusal(
            INVALID_BODY,
            f"options.webhook_wait_seconds must be from 0 to {WEBHOOK_WAIT_MAX_SECONDS:g}",
        )
    for schedule in ("configuration_retry", "locked_retry"):
        for name, (low, high) in RETRY_SCHEDULE_RANGES.items():
            if not low <= getattr(getattr(request.options, schedule), name) <= high:
                where = f"options.{schedule}.{name}"
                return refusal(INVALID_BODY, f"{where} must be from {low:g} to {high:g}")
    low, high = SCORE_RANGE
    for band, value in request.options.bands:
        if not low <= value <= high:
            return refusal(INVALID_BODY, f"options.bands.{band} must be from {low} to {high}")
    for step, (low, high) in (
        ("review", REVIEW_DEADLINE_RANGE),
        ("account", ACCOUNT_DEADLINE_RANGE),
        ("mfa", MFA_DEADLINE_RANGE),
    ):
        if not low <= getattr(request.options, step).deadline_seconds <= high:
            return refusal(
                INVALID_BODY, f"options.{step}.deadline_seconds must be from {low} to {high}"
            )
    return _mfa_problem(request)


def _mfa_problem(request: OnboardingRequest) -> Reason | None:
    mfa = request.options.mfa
    if not mfa.enroll:
        return None
    if not request.subject.phone:
        why = "subject.phone is required to enroll in MFA by SMS (Guardian field_required)"
        return Reason(code=MFA_FIELD_REQUIRED, message=why)
    if mfa.user_id is None and not request.options.account.wanted:
        why = (
            "options.mfa.user_id is required to enroll in MFA unless options.account.register "
            "gives an account to derive it from (Guardian field_required)"
        )
        return Reason(code=MFA_FIELD_REQUIRED, message=why)
    return None


def _reason_for(exc: ValidationError) -> Reason:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    locations = [tuple(str(p) for p in e["loc"]) for e in errors]
    missing = sorted(
        (loc for loc, e in zip(locations, errors, strict=True) if e["type"] == "missing"),
        key=lambda loc: _MISSING_FIELD_CODES.get(loc, INVALID_BODY),
    )
    for loc in missing:
        if loc in _MISSING_FIELD_CODES:
            return refusal(_MISSING_FIELD_CODES[loc], f"{'.'.join(loc)} is required")
    if CPF_FIELD in locations:
        return refusal(INVALID_CPF, "subject.code must be a CPF in a string")
    first = errors[0]
    where = ".".join(_printable(part) for part in locations[0]) or "request"
    # The message names the field and the rule, never the value (it may be personal data).
    return refusal(INVALID_BODY, f"{where}: {first['msg']}")


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}|[0-9]{1,4}")


def _printable(part: str) -> str:
    """A field's name as a message may show it: a name a client could mean, or a stand-in
    (a key may be anything, even a CPF, and the message must not carry it)."""
    return part if _FIELD_NAME.fullmatch(part) else "<field>"

"""Turns whatever a caller sent into an `OnboardingRequest`, or into Unico's refusal code.

The workflow takes its input as raw JSON so that a malformed request never fails a
workflow task (which Temporal would retry forever): it ends the onboarding with outcome
`invalid_request` and the code Unico itself would have answered.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from workflows.cpf import is_valid_cpf, normalize_cpf
from workflows.models import OnboardingRequest, Reason

# Unico's input codes (seed 004) for the fields it names; anything else is a bad body.
_MISSING_FIELD_CODES: dict[tuple[str, ...], int] = {
    ("subject",): 20004,
    ("subject", "code"): 20005,
    ("subject", "name"): 20006,
    ("selfie_ref",): 20009,
}
INVALID_BODY = 20003
INVALID_CPF = 20507


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
    cpf = normalize_cpf(request.subject.code)
    if not is_valid_cpf(cpf):
        return refusal(INVALID_CPF, "subject.code is not a valid CPF (11 digits, check digits)")
    if not request.subject.name.strip():
        return refusal(20006, "subject.name is empty")
    return request.model_copy(update={"subject": request.subject.model_copy(update={"code": cpf})})


def _reason_for(exc: ValidationError) -> Reason:
    errors = exc.errors(include_url=False, include_input=False)
    missing = sorted(
        (tuple(str(p) for p in e["loc"]) for e in errors if e["type"] == "missing"),
        key=lambda loc: _MISSING_FIELD_CODES.get(loc, INVALID_BODY),
    )
    for loc in missing:
        if loc in _MISSING_FIELD_CODES:
            return refusal(_MISSING_FIELD_CODES[loc], f"{'.'.join(loc)} is required")
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"]) or "request"
    # The message names the field and the rule, never the value (it may be personal data).
    return refusal(INVALID_BODY, f"{where}: {first['msg']}")

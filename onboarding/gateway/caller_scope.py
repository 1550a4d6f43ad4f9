"""What a calling service may open through the codec server: the answers meant for it.

A caller's token (CODEC_CALLER_TOKENS) seals anything (sealing reveals nothing) but opens
only a payload that is one of the answers an onboarding gives its caller: the result (and
the decision, a part of it), the `status` query's answer, the MFA updates' answers (the app
shows the person their recovery code), or a failure's message. Those carry no person's
data. Any other payload (an input with the CPF, name, e-mail and phone, a memo, a review's
record) goes back still sealed, so a caller's token cannot read anyone's data out of
history, its own onboardings' included.

A payload is told by its content, strictly: JSON whose keys are all fields of one of these
models, which it validates as. An input cannot pass for a result: their fields differ.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError
from temporalio.api.common.v1 import Payload

from contracts.mfa import OtpAnswer, ResendAnswer
from onboarding_client.codec import NULL_ENCODING
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.contract.status import OnboardingStatus

CALLER_ANSWERS: tuple[type[BaseModel], ...] = (
    OnboardingResult,
    OnboardingStatus,
    OtpAnswer,
    ResendAnswer,
)
# A failure's encoded attributes (DefaultFailureConverterWithEncodedAttributes).
FAILURE_ATTRIBUTES = frozenset({"message", "stack_trace"})


def meant_for_callers(payload: Payload) -> bool:
    """Whether an opened payload is an answer a calling service may read."""
    encoding = payload.metadata.get("encoding")
    if encoding == NULL_ENCODING:
        return True
    if encoding != b"json/plain":
        return False
    try:
        value = json.loads(payload.data)
    except ValueError:
        return False
    if not isinstance(value, dict) or not value:
        return False
    if set(value) <= FAILURE_ATTRIBUTES and all(isinstance(v, str) for v in value.values()):
        return True
    return any(_is_a(model, value) for model in CALLER_ANSWERS)


def _is_a(model: type[BaseModel], value: dict[str, Any]) -> bool:
    if not set(value) <= set(model.model_fields):
        return False
    try:
        model.model_validate(value)
    except ValidationError:
        return False
    return True

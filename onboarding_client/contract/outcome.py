"""The identity decision's vocabulary: the outcomes, and a reason (a stable code, and words)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    REVIEW = "review"
    RECAPTURE = "recapture"
    INVALID_REQUEST = "invalid_request"
    CANCELED = "canceled"
    ERROR = "error"
    EXPIRED = "expired"


class Reason(BaseModel):
    """Why the decision is what it is: a stable code and words for a reviewer."""

    code: str
    message: str

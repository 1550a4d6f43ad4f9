"""The MFA API's error system (seed 003) with its envelope, and how Auth0's and Guardian's
calls are counted.

`{"errorCode": "invalid_otp", "message": "...", "statusCode": 400}` or
`{"error": "invalid_otp", "error_description": "..."}` (Auth0's SDKs show both).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.catalog import ErrorSystem
from activities.envelopes import Envelope, code, text
from activities.telemetry import CallTelemetry


def read_envelope(body: Mapping[str, Any]) -> Envelope:
    found = code(body.get("errorCode")) or code(body.get("error"))
    message = text(body.get("message")) or text(body.get("error_description"))
    return Envelope(found, message)


MFA_ERRORS = ErrorSystem("mfa", __package__ or "", "mfa.toml", read_envelope)
TELEMETRY = CallTelemetry("guardian_requests", "HTTP calls to Auth0 and Guardian", "mfa")

"""Identity Cloud's error system (seed 002) with its envelope, and how its calls are counted.

`{"stat": "error", "code": 414, "error": "access_token_expired", "error_description": "...",
"request_token" | "request_id": "..."}`, with HTTP 200: the body, not the status, says
whether a call failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activities.catalog import ErrorSystem
from activities.envelopes import Envelope, code, text
from activities.telemetry import CallTelemetry


def read_envelope(body: Mapping[str, Any]) -> Envelope:
    message = text(body.get("error_description")) or text(body.get("error"))
    # The seed calls the support token `request_token`; the API's examples `request_id`.
    token = text(body.get("request_token")) or text(body.get("request_id")) or None
    return Envelope(code(body.get("code")), message, token, failed=body.get("stat") == "error")


IDENTITY_CLOUD_ERRORS = ErrorSystem(
    "identity-cloud", __package__ or "", "identity_cloud.toml", read_envelope
)
TELEMETRY = CallTelemetry(
    "identity_cloud_requests", "HTTP calls to Identity Cloud", "identity_cloud"
)

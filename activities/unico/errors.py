"""Unico's two error systems (the token endpoint's 1.x.x codes, the process API's 10xxx to
99999) with their envelopes, and how its calls are counted.

- unico-auth: `{"error": "server_error", "error_description": "Falha na autenticação 1.2.4"}`,
  the code being the x.x.x that ends `error_description`;
- unico-process: `{"error": {"code": 20507 | "20507", "description" | "message": "..."}}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from activities.catalog import ErrorSystem
from activities.envelopes import Envelope, code, text
from activities.telemetry import CallTelemetry

_AUTH_CODE_AT_END = re.compile(r"(\d+\.\d+\.\d+)\s*\.?\s*$")


def read_auth_envelope(body: Mapping[str, Any]) -> Envelope:
    description = text(body.get("error_description"))
    match = _AUTH_CODE_AT_END.search(description)
    return Envelope(match.group(1) if match else None, description or text(body.get("error")))


def read_process_envelope(body: Mapping[str, Any]) -> Envelope:
    inner = body.get("error")
    if not isinstance(inner, Mapping):
        return Envelope(None, text(inner) or text(body.get("message")))
    message = text(inner.get("description")) or text(inner.get("message"))
    return Envelope(code(inner.get("code")), message)


UNICO_AUTH = ErrorSystem("unico-auth", __package__ or "", "unico_auth.toml", read_auth_envelope)
UNICO_PROCESS = ErrorSystem(
    "unico-process", __package__ or "", "unico_process.toml", read_process_envelope
)
TELEMETRY = CallTelemetry("unico_requests", "HTTP calls to Unico", "unico")
TOKEN_REFRESHES_METRIC = "unico_token_refreshes"

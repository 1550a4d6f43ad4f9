"""Each error system's envelope -> the code, message and request token inside it.

The shapes come from the seeds and the systems' published error bodies:

- unico-auth: `{"error": "server_error", "error_description": "Falha na autenticação 1.2.4"}`,
  the code being the x.x.x that ends `error_description`;
- unico-process: `{"error": {"code": 20507 | "20507", "description" | "message": "..."}}`;
- identity-cloud: `{"stat": "error", "code": 414, "error": "access_token_expired",
  "error_description": "...", "request_token" | "request_id": "..."}`, with HTTP 200;
- mfa: `{"errorCode": "invalid_otp", "message": "...", "statusCode": 400}` or
  `{"error": "invalid_otp", "error_description": "..."}`.

Whatever came back, reading never raises: a body that fits no shape gives no code, and the
classifier falls back on the HTTP status.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

_AUTH_CODE_AT_END = re.compile(r"(\d+\.\d+\.\d+)\s*\.?\s*$")


@dataclass(frozen=True)
class Envelope:
    code: str | None
    message: str
    request_token: str | None = None
    failed: bool = False  # the body itself says the call failed (Identity Cloud stat)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _code(value: Any) -> str | None:
    """An integer or string code as text; anything else is no code."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    text = _text(value)
    return text or None


def _unico_auth(body: Mapping[str, Any]) -> Envelope:
    description = _text(body.get("error_description"))
    match = _AUTH_CODE_AT_END.search(description)
    return Envelope(match.group(1) if match else None, description or _text(body.get("error")))


def _unico_process(body: Mapping[str, Any]) -> Envelope:
    inner = body.get("error")
    if not isinstance(inner, Mapping):
        return Envelope(None, _text(inner) or _text(body.get("message")))
    message = _text(inner.get("description")) or _text(inner.get("message"))
    return Envelope(_code(inner.get("code")), message)


def _identity_cloud(body: Mapping[str, Any]) -> Envelope:
    code = _code(body.get("code"))
    message = _text(body.get("error_description")) or _text(body.get("error"))
    # The seed calls the support token `request_token`; the API's examples `request_id`.
    token = _text(body.get("request_token")) or _text(body.get("request_id")) or None
    return Envelope(code, message, token, failed=body.get("stat") == "error")


def _mfa(body: Mapping[str, Any]) -> Envelope:
    code = _code(body.get("errorCode")) or _code(body.get("error"))
    message = _text(body.get("message")) or _text(body.get("error_description"))
    return Envelope(code, message)


READERS: Mapping[str, Callable[[Mapping[str, Any]], Envelope]] = {
    "unico-auth": _unico_auth,
    "unico-process": _unico_process,
    "identity-cloud": _identity_cloud,
    "mfa": _mfa,
}


def read_envelope(system: str, body: Any) -> Envelope:
    """The code and message in `body` (parsed JSON), read as `system` writes them."""
    reader = READERS.get(system)
    if reader is None:
        raise ValueError(f"unknown error system {system!r}")
    return reader(body) if isinstance(body, Mapping) else Envelope(None, "")

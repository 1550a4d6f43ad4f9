"""What a call carries: its `Authorization` header and its JSON body.

A header that is not of the scheme a route expects is `invalid_bearer_format`, whatever
the value: telling a malformed header from an unknown credential is what lets a client
see its own bug. A body that is not a JSON object reads as None; each route says what
that means for it.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.datastructures import Headers

from sandbox.guardian.errors import AuthError, GuardianError

FORM = "application/x-www-form-urlencoded"

_BEARER = re.compile(r"Bearer +([A-Za-z0-9._~+/=-]+)", re.IGNORECASE)
_TICKET = re.compile(r'Ticket +id="([^"\s]+)"', re.IGNORECASE)


def bearer(headers: Headers) -> str:
    """The token of `Authorization: Bearer <token>`."""
    match = _BEARER.fullmatch(headers.get("authorization", "").strip())
    if match is None:
        raise GuardianError("invalid_bearer_format", "Authorization must be: Bearer <token>")
    return match.group(1)


def ticket(headers: Headers) -> str:
    """The id of `Authorization: Ticket id="<ticket_id>"`."""
    match = _TICKET.fullmatch(headers.get("authorization", "").strip())
    if match is None:
        raise GuardianError(
            "invalid_bearer_format", 'Authorization must be: Ticket id="<ticket_id>"'
        )
    return match.group(1)


def json_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is no JSON object."""
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return payload if isinstance(payload, dict) else None


def token_fields(headers: Headers, body: bytes) -> dict[str, Any]:
    """The fields of a token request: a JSON object or a form, as Auth0 takes either."""
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == FORM:
        return dict(parse_qsl(body.decode("utf-8", "replace")))
    payload = json_object(body) if media_type == "application/json" else None
    if payload is None:
        raise AuthError("invalid_request", f"The body must be a JSON object or {FORM}")
    return payload


def basic_client(headers: Headers) -> tuple[str, str] | None:
    """The client of `Authorization: Basic base64(id:secret)`, or None without that header."""
    scheme, _, value = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, _, secret = (
            base64.b64decode(value.strip(), validate=True).decode().partition(":")
        )
    except (ValueError, UnicodeDecodeError):
        raise AuthError("invalid_client", "Malformed Basic credentials") from None
    return unquote_plus(client_id), unquote_plus(secret)

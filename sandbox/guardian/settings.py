"""The Auth0 settings `POST /_sandbox/config` may change while the server runs, and their
checks. `GET /_sandbox/config` shows them all but the client secret: of that, only whether
it was rotated."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

SHOWN = (
    "auth0_scopes",
    "auth0_token_lifetime_seconds",
    "guardian_sms_enabled",
    "guardian_sms_per_hour",
    "guardian_code_ttl_seconds",
    "guardian_transaction_ttl_seconds",
)
KEYS = ("auth0_client_secret", *SHOWN)
_WHOLE = ("auth0_token_lifetime_seconds", "guardian_sms_per_hour")
_SECONDS = ("guardian_code_ttl_seconds", "guardian_transaction_ttl_seconds")


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _seconds(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value >= 0


def changes(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The Auth0 settings among `payload`, checked; a ValueError says which one is wrong."""
    found = {name: payload[name] for name in KEYS if name in payload}
    secret = found.get("auth0_client_secret", "unchanged")
    if not isinstance(secret, str) or not secret:
        raise ValueError("auth0_client_secret must be a non-empty string")
    if not isinstance(found.get("auth0_scopes", ""), str):
        raise ValueError("auth0_scopes must be a string of space-separated scopes")
    if not isinstance(found.get("guardian_sms_enabled", True), bool):
        raise ValueError("guardian_sms_enabled must be true or false")
    for name in _WHOLE:
        if not _whole(found.get(name, 0)):
            raise ValueError(f"{name} must be a non-negative integer")
    for name in _SECONDS:
        if not _seconds(found.get(name, 0)):
            raise ValueError(f"{name} must be a non-negative number of seconds")
    return {name: float(v) if name in _SECONDS else v for name, v in found.items()}

"""The body of an admin `POST /_sandbox/...`: a JSON object naming only known settings."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any


def settings_object(body: bytes, known: Collection[str]) -> dict[str, Any]:
    """The parsed object; ValueError, in words for the caller, when it is not one."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        raise ValueError("the body must be a JSON object") from None
    if not isinstance(payload, dict):
        raise ValueError("the body must be a JSON object")
    unknown = set(payload) - set(known)
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    return payload

"""An error answer's envelope: the code, message and request token inside it.

Each error system reads its own shape (a reader beside its catalog, in the system's package);
this is what they share. Whatever came back, reading never raises: a body that fits no shape
gives no code, and the classifier falls back on the HTTP status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Envelope:
    code: str | None
    message: str
    request_token: str | None = None
    failed: bool = False  # the body itself says the call failed (Identity Cloud stat)


def text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def code(value: Any) -> str | None:
    """An integer or string code as text; anything else is no code."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    found = text(value)
    return found or None


EnvelopeReader = Callable[[Mapping[str, Any]], Envelope]


def read_envelope(reader: EnvelopeReader, body: Any) -> Envelope:
    """The code and message in `body` (parsed JSON), as `reader` finds them."""
    return reader(body) if isinstance(body, Mapping) else Envelope(None, "")

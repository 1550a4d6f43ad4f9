"""Where the SMS go: the sandbox sends none; each one is kept here, in the order sent, for
`GET /_sandbox/guardian/sms` to show (a test reads the code as a person reads the text)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.guardian.times import iso


@dataclass(frozen=True)
class Sms:
    phone: str
    code: str
    sent_at: float


class Inbox:
    def __init__(self) -> None:
        self._messages: list[Sms] = []

    def deliver(self, sms: Sms) -> None:
        self._messages.append(sms)

    def as_json(self, phone: str | None = None) -> list[dict[str, Any]]:
        """Oldest first; only those to `phone` when it is given."""
        return [
            {"phone": sms.phone, "code": sms.code, "sent_at": iso(sms.sent_at)}
            for sms in self._messages
            if phone is None or sms.phone == phone
        ]

    def reset(self) -> None:
        self._messages.clear()

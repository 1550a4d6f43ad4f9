"""The confirmed enrollments: at most one per user, ever (Guardian: "you cannot enroll
twice"). A confirmed user's next start-flow answers `confirmed`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.guardian.errors import GuardianError
from sandbox.guardian.times import iso


@dataclass(frozen=True)
class Enrollment:
    user_id: str
    phone: str
    device_id: str
    enrolled_at: float


class Enrollments:
    def __init__(self) -> None:
        self._by_user: dict[str, Enrollment] = {}

    def of(self, user_id: str) -> Enrollment | None:
        return self._by_user.get(user_id)

    def confirm(self, enrollment: Enrollment) -> None:
        """409 enrollment_conflict when the user is enrolled already."""
        if enrollment.user_id in self._by_user:
            raise conflict()
        self._by_user[enrollment.user_id] = enrollment

    def as_json(self) -> list[dict[str, Any]]:
        """In the order they were confirmed."""
        return [
            {"user_id": e.user_id, "phone": e.phone, "enrolled_at": iso(e.enrolled_at)}
            for e in self._by_user.values()
        ]

    def reset(self) -> None:
        self._by_user.clear()


def conflict() -> GuardianError:
    return GuardianError("enrollment_conflict", "There is another enrollment for the same user")

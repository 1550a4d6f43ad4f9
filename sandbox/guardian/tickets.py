"""Enrollment tickets: made by the Management API, spent by Guardian's start-flow.

A ticket names one user, lasts five days and can be used once (Auth0's documentation of
`POST /api/v2/guardian/enrollments/ticket`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sandbox.guardian.times import WALL, Clock

TICKET_LIFETIME_SECONDS = 5 * 24 * 3600


@dataclass
class Ticket:
    user_id: str
    expires_at: float
    used: bool = False


class TicketStore:
    def __init__(self, clock: Clock = WALL) -> None:
        self._clock = clock
        self._tickets: dict[str, Ticket] = {}

    def issue(self, user_id: str) -> str:
        ticket_id = secrets.token_urlsafe(24)
        expires_at = self._clock() + TICKET_LIFETIME_SECONDS
        self._tickets[ticket_id] = Ticket(user_id, expires_at)
        return ticket_id

    def usable(self, ticket_id: str) -> Ticket | None:
        """The ticket if it exists, is unused and has not expired."""
        ticket = self._tickets.get(ticket_id)
        if ticket is None or ticket.used or self._clock() >= ticket.expires_at:
            return None
        return ticket

    def reset(self) -> None:
        self._tickets.clear()

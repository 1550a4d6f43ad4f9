"""Enrollment transactions: what start-flow opens and verify-otp closes.

A transaction is reached by its transaction token; it ends when its lifetime is over or
when verify-otp accepted a code (or found the user enrolled meanwhile). From then on its
token finds nothing: `enrollment_transaction_not_found`, as for a token never issued. It
holds at most one code, the last one sent: a newer SMS replaces the older code.
"""

from __future__ import annotations

import base64
import secrets
import string
from dataclasses import dataclass
from typing import Any

from sandbox.guardian.errors import GuardianError
from sandbox.guardian.times import WALL, Clock

_RECOVERY_ALPHABET = string.ascii_uppercase + string.digits
_ID_ALPHABET = string.ascii_letters + string.digits


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass(frozen=True)
class Code:
    value: str
    expires_at: float


PENDING, CONFIRMED, CONFLICT, EXPIRED = "pending", "confirmed", "conflict", "expired"


@dataclass
class Transaction:
    user_id: str
    ticket_id: str  # the ticket its start-flow spent
    expires_at: float
    tx_id: str
    token: str
    device_id: str
    otp_secret: str  # base32, as an authenticator app takes it
    recovery_code: str
    code: Code | None = None  # the last one sent
    phone: str | None = None  # where it went
    ended: str | None = None  # CONFIRMED or CONFLICT, once verify-otp ended it


def not_found() -> GuardianError:
    return GuardianError(
        "enrollment_transaction_not_found",
        "The enrollment transaction is not active or has expired",
    )


class TransactionStore:
    def __init__(self, clock: Clock = WALL) -> None:
        self._clock = clock
        self._by_token: dict[str, Transaction] = {}

    def start(self, user_id: str, ticket_id: str, lifetime_seconds: float) -> Transaction:
        transaction = Transaction(
            user_id=user_id,
            ticket_id=ticket_id,
            expires_at=self._clock() + lifetime_seconds,
            tx_id=_random(_ID_ALPHABET, 24),
            token=secrets.token_urlsafe(32),
            device_id=f"dev_{_random(_ID_ALPHABET, 16)}",
            otp_secret=base64.b32encode(secrets.token_bytes(20)).decode(),
            recovery_code=_random(_RECOVERY_ALPHABET, 24),
        )
        self._by_token[transaction.token] = transaction
        return transaction

    def live(self, token: str) -> Transaction:
        """The transaction of `token`; 404 when there is none, or it ended."""
        transaction = self._by_token.get(token)
        if transaction is None or self._state(transaction) != PENDING:
            raise not_found()
        return transaction

    def as_json(self) -> list[dict[str, Any]]:
        """Every transaction begun, oldest first, with what a test searches for: its ticket,
        token and device id (never its secrets or codes), and its state."""
        return [
            {
                "user_id": t.user_id,
                "ticket_id": t.ticket_id,
                "transaction_token": t.token,
                "device_id": t.device_id,
                "state": self._state(t),
            }
            for t in self._by_token.values()
        ]

    def reset(self) -> None:
        self._by_token.clear()

    def _state(self, transaction: Transaction) -> str:
        if transaction.ended is not None:
            return transaction.ended
        return EXPIRED if self._clock() >= transaction.expires_at else PENDING

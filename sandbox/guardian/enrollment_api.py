"""Guardian's enrollment API for the SMS factor: start-flow, sms-enroll, verify-otp.

Each call checks in the order a real server can: the Authorization header's form, the
ticket or transaction it names, the feature switch, then the body. start-flow spends its
ticket only when it answers 201. An SMS is not sent: it lands in the inbox. verify-otp
confirms the enrollment and ends the transaction in one step, so a retry of a confirm
whose answer was lost finds no transaction (404), and start-flow then says `confirmed`.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.datastructures import Headers

from sandbox.config import Runtime
from sandbox.guardian import parsing
from sandbox.guardian.enrollments import Enrollment, Enrollments, conflict
from sandbox.guardian.errors import GuardianError
from sandbox.guardian.inbox import Inbox, Sms
from sandbox.guardian.phones import Phone, behaviour, well_formed
from sandbox.guardian.ratelimit import SmsLimit
from sandbox.guardian.tickets import TicketStore
from sandbox.guardian.times import WALL, Clock, iso
from sandbox.guardian.transactions import (
    CONFIRMED,
    CONFLICT,
    Code,
    Transaction,
    TransactionStore,
    not_found,
)

STATE_TRANSPORTS = ("polling", "socket")


def _disabled() -> GuardianError:
    return GuardianError("feature_disabled", "The SMS factor is not enabled")


def _invalid_body(message: str) -> GuardianError:
    return GuardianError("invalid_body", message)


def _invalid_otp(message: str) -> GuardianError:
    return GuardianError("invalid_otp", message)


class EnrollmentAPI:
    def __init__(self, runtime: Runtime, tickets: TicketStore, clock: Clock = WALL) -> None:
        self._runtime, self._tickets, self._clock = runtime, tickets, clock
        self.transactions = TransactionStore(clock)
        self.enrollments = Enrollments()
        self.inbox = Inbox()
        self.sms_limit = SmsLimit(clock)
        self._failed_once: set[str] = set()  # test phones whose one failure is spent

    def start_flow(self, headers: Headers, body: bytes) -> dict[str, Any]:
        ticket_id = parsing.ticket(headers)
        ticket = self._tickets.usable(ticket_id)
        if ticket is None:
            raise not_found()
        if not self._runtime.guardian_sms_enabled:
            raise _disabled()
        payload = parsing.json_object(body)
        if payload is None or payload.get("state_transport") not in STATE_TRANSPORTS:
            raise _invalid_body("state_transport must be polling or socket")
        ticket.used = True
        enrolled = self.enrollments.of(ticket.user_id)
        if enrolled is not None:  # no secret, recovery code or transaction for a second try
            return {"device_account": {"id": enrolled.device_id, "status": "confirmed"}}
        transaction = self.transactions.start(
            ticket.user_id, ticket_id, self._runtime.guardian_transaction_ttl_seconds
        )
        return {
            "device_account": {
                "id": transaction.device_id,
                "status": "confirmation_pending",
                "otp_secret": transaction.otp_secret,
                "recovery_code": transaction.recovery_code,
                "phone_number": None,
            },
            "enrollment_tx_id": transaction.tx_id,
            "transaction_token": transaction.token,
            "expires_at": iso(transaction.expires_at),
        }

    def sms_enroll(self, headers: Headers, device_id: str, body: bytes) -> dict[str, str]:
        """Text a fresh code to the phone; the answer's x-ratelimit headers."""
        transaction = self.transactions.live(parsing.bearer(headers))
        if device_id != transaction.device_id:
            raise not_found()
        if not self._runtime.guardian_sms_enabled:
            raise _disabled()
        payload = parsing.json_object(body)
        if payload is None:
            raise _invalid_body("The body must be a JSON object")
        phone = payload.get("phone_number")
        if not well_formed(phone):
            raise GuardianError("invalid_phone_number", "phone_number must be + and 8-15 digits")
        kind = behaviour(phone)
        if kind is Phone.REFUSED:
            raise GuardianError("invalid_phone_number", "The phone number cannot receive SMS")
        if kind is Phone.ENROLLED_ELSEWHERE or self.enrollments.of(transaction.user_id):
            raise conflict()
        limit = self._runtime.guardian_sms_per_hour
        self.sms_limit.admit(transaction.user_id, limit)
        if kind is Phone.FAILS_ONCE and phone not in self._failed_once:
            self._failed_once.add(phone)
            raise GuardianError("error_sending_sms", "SMS delivery failed")
        self._send(transaction, phone)
        return self.sms_limit.spend(transaction.user_id, limit).headers()

    def verify_otp(self, headers: Headers, body: bytes) -> None:
        """Confirm the enrollment with the last code sent."""
        transaction = self.transactions.live(parsing.bearer(headers))
        payload = parsing.json_object(body)
        if payload is None or payload.get("type") != "manual_input":
            raise _invalid_body("type must be manual_input")
        given = payload.get("code")
        if not isinstance(given, str):
            raise _invalid_body("code must be a string")
        code = transaction.code
        if code is None or transaction.phone is None:
            raise _invalid_otp("No code was sent in this transaction")
        if not hmac.compare_digest(given.encode(), code.value.encode()):
            raise _invalid_otp("The code is wrong")
        if self._clock() >= code.expires_at:
            raise _invalid_otp("The code has expired")
        transaction.code = None  # single use
        if self.enrollments.of(transaction.user_id) is not None:
            transaction.ended = CONFLICT  # another transaction won meanwhile
            raise conflict()
        transaction.ended = CONFIRMED
        enrollment = Enrollment(
            transaction.user_id, transaction.phone, transaction.device_id, self._clock()
        )
        self.enrollments.confirm(enrollment)

    def reset(self) -> None:
        self.transactions.reset()
        self.enrollments.reset()
        self.inbox.reset()
        self.sms_limit.reset()
        self._failed_once.clear()

    def _send(self, transaction: Transaction, phone: str) -> None:
        now = self._clock()
        value = f"{secrets.randbelow(10**6):06d}"
        ttl = self._runtime.guardian_code_ttl_seconds
        transaction.code, transaction.phone = Code(value, now + ttl), phone
        self.inbox.deliver(Sms(phone, value, now))

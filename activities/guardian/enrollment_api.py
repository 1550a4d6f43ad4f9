"""Guardian's enrollment API: start the flow with a ticket, send the SMS, confirm a code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from activities.guardian.calls import post


@dataclass(frozen=True)
class Flow:
    confirmed: bool  # the user is already enrolled: no transaction
    device_id: str | None = None
    transaction_token: str | None = None
    recovery_code: str | None = None


class GuardianApi:
    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self._http = http
        self._url = url.rstrip("/")

    async def start_flow(self, ticket_id: str) -> Flow:
        response = await post(
            self._http,
            f"{self._url}/api/start-flow",
            "/api/start-flow",
            {"state_transport": "polling"},
            f'Ticket id="{ticket_id}"',
        )
        body: dict[str, Any] = response.json()
        device = body.get("device_account") or {}
        if device.get("status") == "confirmed":
            return Flow(confirmed=True)
        return Flow(
            confirmed=False,
            device_id=str(device["id"]),
            transaction_token=str(body["transaction_token"]),
            recovery_code=device.get("recovery_code"),
        )

    async def send_sms(self, device_id: str, transaction_token: str, phone: str) -> None:
        await post(
            self._http,
            f"{self._url}/api/device-accounts/{device_id}/sms-enroll",
            "/api/device-accounts/{id}/sms-enroll",
            {"phone_number": phone},
            f"Bearer {transaction_token}",
        )

    async def verify(self, transaction_token: str, code: str) -> None:
        await post(
            self._http,
            f"{self._url}/api/verify-otp",
            "/api/verify-otp",
            {"type": "manual_input", "code": code},
            f"Bearer {transaction_token}",
        )

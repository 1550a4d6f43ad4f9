"""The sandbox's admin endpoints (`/_sandbox/...`), over HTTP, for tests, benchmarks and demos."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class SandboxClient:
    url: str

    def request(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.url}/_sandbox/{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict[str, Any]:
        """How many calls each endpoint received, by HTTP status and by error code."""
        return dict(self.request("GET", "stats"))

    def reset(self) -> None:
        self.request("POST", "reset")

    def configure(self, **settings: float | str | bool) -> None:
        """Change `async_delay_seconds`, `token_lifetime_seconds`, the Identity Cloud and the
        Auth0/Guardian settings (`auth0_client_secret`, `guardian_sms_per_hour`, ...) while
        it runs."""
        self.request("POST", "config", settings)

    def records(self) -> list[dict[str, Any]]:
        """Identity Cloud's records, in id order (the seeded one first)."""
        return list(self.request("GET", "identity-cloud/records")["records"])

    def sms(self, phone: str | None = None) -> list[dict[str, Any]]:
        """Guardian's SMS inbox, oldest first: `{"phone", "code", "sent_at"}` each."""
        messages = list(self.request("GET", "guardian/sms")["messages"])
        return [m for m in messages if phone is None or m["phone"] == phone]

    def last_code(self, phone: str) -> str:
        """The code of the last SMS sent to `phone` (as Guardian received it: E.164)."""
        return str(self.sms(phone)[-1]["code"])

    def enrollments(self) -> list[dict[str, Any]]:
        """Guardian's confirmed enrollments: `{"user_id", "phone", "enrolled_at"}` each."""
        return list(self.request("GET", "guardian/enrollments")["enrollments"])

    def guardian_transactions(self) -> list[dict[str, Any]]:
        """Every Guardian transaction begun: `{"user_id", "ticket_id", "transaction_token",
        "device_id", "state"}` each (so a test can search histories for them)."""
        return list(self.request("GET", "guardian/transactions")["transactions"])

    def rate_limit(self) -> dict[str, Any]:
        """The tenant limit and every process-API arrival the sandbox saw."""
        return dict(self.request("GET", "rate-limit"))

    def inject(self, *rules: dict[str, Any]) -> None:
        """Add fault rules (sandbox/faults.py) for the next calls."""
        self.request("POST", "faults", {"rules": list(rules)})

    def clear_faults(self) -> None:
        self.request("DELETE", "faults")

    def webhooks(self, **switches: Any) -> dict[str, Any]:
        """Unico's deliveries so far; `enabled=`, `duplicates=` change how it sends them."""
        if switches:
            return dict(self.request("POST", "webhooks", switches))
        return dict(self.request("GET", "webhooks"))

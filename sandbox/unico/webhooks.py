"""Unico's webhook: when an async process turns final, tell the client's endpoint.

As Unico documents its webhook: one POST per final process, with the
authentication header the client agreed with Unico's team, at-least-once delivery (any
answer that is not 2xx is retried with exponential backoff), no signature. The payload
shape of the by Client flow is unverified, so it carries only `processId`, `state` and
`flow`: a receiver must treat it as a hint and read the process with GET.

`duplicates` repeats each successful delivery, to show that a receiver copes with the
at-least-once side. `GET /_sandbox/webhooks` reports every delivery with the moment the
process turned final, which is what the latency benchmark measures from.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.admin_json import settings_object

logger = logging.getLogger("sandbox.unico.webhooks")

STATES = {3: "finished", 4: "canceled", 5: "error"}
FLOW = "idcloud-by-client"
KEPT_DELIVERIES = 1000


def parse_header(text: str | None) -> tuple[str, str] | None:
    """`"Name: value"` -> ("Name", "value"); the header Unico sends to authenticate."""
    if text is None:
        return None
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or not value.strip():
        raise ValueError("a webhook header is written 'Name: value'")
    return name.strip(), value.strip()


@dataclass
class WebhookPolicy:
    """What `POST /_sandbox/webhooks` may change while the server runs."""

    enabled: bool = True
    duplicates: int = 0
    retry_initial_seconds: float = 0.25
    retry_max_seconds: float = 4.0
    max_attempts: int = 10


@dataclass
class _Counts:
    attempts: int = 0
    delivered: int = 0
    failed: int = 0
    deliveries: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=KEPT_DELIVERIES))


class WebhookSender:
    """Schedules one delivery task per async process; `reset` and `close` cancel them."""

    def __init__(self, url: str | None, header: tuple[str, str] | None) -> None:
        self.url = url
        self.header = header
        self.policy = WebhookPolicy()
        self._counts = _Counts()
        self._tasks: set[asyncio.Task[None]] = set()
        # One client for every delivery: a client per delivery would build its TLS context
        # each time, which costs more CPU than the delivery itself.
        self._http: httpx.AsyncClient | None = None

    def announce(self, process_id: str, final_status: int | None, delay_seconds: float) -> None:
        """The process turns final in `delay_seconds`: deliver its webhook then."""
        if self.url is None or final_status is None or not self.policy.enabled:
            return
        task = asyncio.create_task(self._deliver(process_id, final_status, delay_seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, process_id: str, status: int, delay_seconds: float) -> None:
        final_at = time.time() + delay_seconds
        await asyncio.sleep(delay_seconds)
        payload = {"processId": process_id, "state": STATES.get(status, "unknown"), "flow": FLOW}
        headers = dict([self.header]) if self.header else {}
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5.0)
        for copy in range(1 + self.policy.duplicates):
            http_status = await self._post_until_accepted(self._http, payload, headers)
            self._counts.deliveries.append(
                {
                    "process_id": process_id,
                    "state": payload["state"],
                    "copy": copy,
                    "final_at": final_at,
                    "delivered_at": time.time(),
                    "http_status": http_status,
                }
            )
            if http_status is None:
                return

    async def _post_until_accepted(
        self, http: httpx.AsyncClient, payload: Mapping[str, Any], headers: dict[str, str]
    ) -> int | None:
        """The 2xx status that ended the delivery, or None after the last failed attempt."""
        assert self.url is not None
        pause = self.policy.retry_initial_seconds
        for attempt in range(1, self.policy.max_attempts + 1):
            self._counts.attempts += 1
            try:
                response = await http.post(self.url, json=payload, headers=headers)
                status: int | str = response.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            # The process id is Unico's, not personal data; the header value is never logged.
            logger.info("webhook %s attempt %d -> %s", payload["processId"], attempt, status)
            if isinstance(status, int) and 200 <= status < 300:
                self._counts.delivered += 1
                return status
            await asyncio.sleep(pause)
            pause = min(pause * 2, self.policy.retry_max_seconds)
        self._counts.failed += 1
        return None

    def as_json(self) -> dict[str, Any]:
        counts = self._counts
        return {
            "url": self.url,
            "enabled": self.policy.enabled,
            "duplicates": self.policy.duplicates,
            "pending": len(self._tasks),
            "attempts": counts.attempts,
            "delivered": counts.delivered,
            "failed": counts.failed,
            "deliveries": list(counts.deliveries),
        }

    def reset(self) -> None:
        for task in self._tasks:
            task.cancel()
        self._counts = _Counts()

    async def close(self) -> None:
        tasks = list(self._tasks)
        self.reset()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()
            self._http = None


def webhook_routes(sender: WebhookSender) -> list[Route]:
    async def webhooks(request: Request) -> Response:
        if request.method == "POST":
            try:
                _apply(sender.policy, await request.body())
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, 400)
        return JSONResponse(sender.as_json())

    return [Route("/_sandbox/webhooks", webhooks, methods=["GET", "POST"])]


def _apply(policy: WebhookPolicy, body: bytes) -> None:
    """Validate `{"enabled"?: bool, "duplicates"?: int}` and apply it."""
    payload = settings_object(body, {"enabled", "duplicates"})
    enabled = payload.get("enabled", policy.enabled)
    duplicates = payload.get("duplicates", policy.duplicates)
    if not isinstance(enabled, bool):
        raise ValueError("enabled must be true or false")
    if isinstance(duplicates, bool) or not isinstance(duplicates, int) or duplicates < 0:
        raise ValueError("duplicates must be a non-negative integer")
    policy.enabled, policy.duplicates = enabled, duplicates

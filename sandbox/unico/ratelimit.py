"""Unico's per-tenant rate limit on the process API: 429 with Retry-After beyond it.

A token bucket per tenant (the APIKEY a request carries): `rate` tokens a second, at most
`burst` saved up. So in any window of t seconds a tenant gets at most `burst + rate * t`
requests through; the stated burst is that `burst`. The token endpoint is not limited:
Unico publishes its limit for the process API, and the token host is another service.

The limiter also keeps the arrival time of every process-API request, admitted or not, so
that a test can measure from Unico's side what a worker fleet really sent.
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

PROCESS_API_PREFIX = "/processes"
MAX_ARRIVALS_KEPT = 100_000
TOO_MANY = {"error": {"description": "Too many requests: the tenant's rate limit was exceeded"}}


class TokenBucket:
    """`rate` tokens a second, at most `burst` banked; each request takes one."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate, self.burst = rate, burst
        self._tokens, self._updated = burst, now

    def take(self, now: float) -> float:
        """0 when a token was taken; otherwise the seconds until one will be there."""
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


@dataclass
class TenantRateLimit:
    """The limit and what it saw; `rate` 0 admits everything (and still records)."""

    rate: float = 0.0
    burst: float = 1.0
    clock: Callable[[], float] = time.monotonic
    arrivals: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_ARRIVALS_KEPT))
    refused: int = 0
    _buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def admit(self, tenant: str) -> float:
        """0 to let the request through; otherwise the Retry-After in seconds."""
        now = self.clock()
        self.arrivals.append(now)
        if self.rate <= 0:
            return 0.0
        bucket = self._buckets.get(tenant)
        if bucket is None:
            bucket = self._buckets[tenant] = TokenBucket(self.rate, self.burst, now)
        wait = bucket.take(now)
        if wait:
            self.refused += 1
        return wait

    def reset(self) -> None:
        self.arrivals.clear()
        self.refused = 0
        self._buckets.clear()

    def as_json(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "burst": self.burst,
            "refused": self.refused,
            "arrivals": list(self.arrivals),
        }


class RateLimitMiddleware:
    """Answers a process-API request over the tenant's limit with 429 before any handler."""

    def __init__(self, app: ASGIApp, limit: TenantRateLimit) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PROCESS_API_PREFIX):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        wait = self.limit.admit(headers.get(b"apikey", b"").decode("latin-1"))
        if not wait:
            await self.app(scope, receive, send)
            return
        body = json.dumps(TOO_MANY).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    # Whole seconds, as HTTP's delay-seconds are; never 0, which means "now".
                    (b"retry-after", str(max(1, math.ceil(wait))).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

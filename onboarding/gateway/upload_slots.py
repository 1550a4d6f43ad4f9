"""How many selfie uploads the gateway holds at once (GATEWAY_MAX_CONCURRENT_UPLOADS).

Each upload in flight holds its image in memory (up to the store's limit, 10 MB), so the
number in flight bounds the gateway's memory. One past the limit is turned away at once (503
with Retry-After), before its body is read, rather than queued: a queue would hold sockets
and clients for an unknown time, and a caller's retry costs nothing.
"""

from __future__ import annotations

RETRY_AFTER_SECONDS = 1  # an upload takes well under a second on the private network


class UploadSlots:
    """At most `limit` uploads in flight: `try_take()` before reading a body, `release()`
    after the store has it."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("at least one upload must be allowed in flight")
        self.limit = limit
        self._in_flight = 0

    def try_take(self) -> bool:
        # No lock: the gateway serves on one event loop, and nothing here awaits.
        if self._in_flight >= self.limit:
            return False
        self._in_flight += 1
        return True

    def release(self) -> None:
        self._in_flight -= 1

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def retry_after(self) -> dict[str, str]:
        return {"Retry-After": str(RETRY_AFTER_SECONDS)}

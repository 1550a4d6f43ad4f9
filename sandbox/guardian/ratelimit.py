"""The per-user SMS limit: at most `limit` SMS to one user in any rolling hour (Auth0's
published limit is 10 an hour per user).

Only an SMS sent takes a slot: a refusal before delivery, or a failed delivery, does not.
The answer headers are Auth0's `x-ratelimit-*`: `x-ratelimit-reset` is the epoch second
at which the oldest SMS of the window leaves it, that is, when one slot frees (an hour
from now when the window is empty). A refusal adds `Retry-After`, the seconds until then.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from dataclasses import dataclass

from sandbox.guardian.errors import GuardianError
from sandbox.guardian.times import WALL, Clock

WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset: int  # epoch seconds: when one slot frees

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
        }


def limited_headers(limit: int, reset: int, retry_after: int) -> dict[str, str]:
    """The headers of a 429 (a fault rule's too_many_* answers them too)."""
    return {**Quota(limit, 0, reset).headers(), "Retry-After": str(retry_after)}


class SmsLimit:
    def __init__(self, clock: Clock = WALL) -> None:
        self._clock = clock
        self._sent: defaultdict[str, deque[float]] = defaultdict(deque)

    def admit(self, user_id: str, limit: int) -> None:
        """429 too_many_sms when the user's window holds `limit` SMS already."""
        now = self._clock()
        sent = self._window(user_id, now)
        if len(sent) >= limit:
            wait = WINDOW_SECONDS - self._age(sent, now)  # not frees_at - now: no rounding
            headers = limited_headers(limit, math.ceil(now + wait), max(1, math.ceil(wait)))
            raise GuardianError("too_many_sms", "Too many SMS for this user", 429, headers)

    def spend(self, user_id: str, limit: int) -> Quota:
        """Count an SMS sent; the quota left after it."""
        now = self._clock()
        sent = self._window(user_id, now)
        sent.append(now)
        reset = math.ceil(now + WINDOW_SECONDS - self._age(sent, now))
        return Quota(limit, max(0, limit - len(sent)), reset)

    def reset(self) -> None:
        self._sent.clear()

    def _window(self, user_id: str, now: float) -> deque[float]:
        sent = self._sent[user_id]
        while sent and sent[0] <= now - WINDOW_SECONDS:
            sent.popleft()
        return sent

    @staticmethod
    def _age(sent: deque[float], now: float) -> float:
        """How long ago the oldest SMS of the window went out (0: none did)."""
        return now - sent[0] if sent else 0.0

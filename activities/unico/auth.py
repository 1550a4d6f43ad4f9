"""Service-account authentication: RS256 assertion -> access token, cached per worker.

Unico's token endpoint takes a JWT bearer grant whose assertion carries exactly `iss`,
`aud`, `scope`, `iat` and `exp` (any other claim is refused with 1.2.22) and can be used
once (1.2.7), so every refresh signs a fresh assertion. The token stays inside the worker:
the activities ask the cache for it, and the workflow never sees it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt

from activities.errors import raise_for_answer, raise_for_transport
from activities.telemetry import remote_call
from activities.unico.errors import TELEMETRY, TOKEN_REFRESHES_METRIC, UNICO_AUTH

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_ROUTE = "/oauth2/token"
MIN_ASSERTION_SECONDS = 60
MAX_ASSERTION_SECONDS = 3540  # under Unico's 3600 s ceiling for exp - iat
EXP_OFFSETS = range(MIN_ASSERTION_SECONDS, MAX_ASSERTION_SECONDS)


@dataclass(frozen=True)
class ServiceAccount:
    issuer: str
    audience: str
    token_url: str
    private_key_pem: bytes

    @classmethod
    def from_key_file(
        cls, issuer: str, audience: str, token_url: str, key_file: Path
    ) -> ServiceAccount:
        return cls(issuer, audience, token_url, key_file.read_bytes())

    def __repr__(self) -> str:  # the key never reaches a log line
        return f"ServiceAccount(issuer={self.issuer!r}, audience={self.audience!r})"


def build_assertion(account: ServiceAccount, now: float, exp_offset: int | None = None) -> str:
    """A single-use assertion with exactly the claims Unico accepts.

    RS256 signatures are deterministic and `iat` has one-second resolution, so two
    assertions signed in the same second would be identical and the second refused as
    reused (1.2.7). A random `exp` (1 to 59 minutes ahead; Unico allows up to 60) makes
    assertions of different workers distinct with high probability, and the cache makes
    all of its own distinct for certain (`exp_offset`).
    """
    issued_at = int(now)
    if exp_offset is None:
        exp_offset = random_exp_offset()
    claims = {
        "iss": account.issuer,
        "aud": account.audience,
        "scope": "*",
        "iat": issued_at,
        "exp": issued_at + exp_offset,
    }
    return jwt.encode(claims, account.private_key_pem, algorithm="RS256")


def random_exp_offset() -> int:
    return EXP_OFFSETS[secrets.randbelow(len(EXP_OFFSETS))]


@dataclass
class _CachedToken:
    value: str
    expires_at: float
    lifetime: float


class TokenCache:
    """One access token per worker, refreshed once for all concurrent callers.

    A token is served while more than `safety_margin` seconds of it remain, so that a call
    made with it cannot expire in flight; for a tenant whose tokens live shorter than twice
    the margin, half the lifetime counts instead, or every call would fetch a new token.
    """

    def __init__(
        self,
        account: ServiceAccount,
        http: httpx.AsyncClient,
        safety_margin: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._account = account
        self._http = http
        self._margin = safety_margin
        self._clock = clock
        self._token: _CachedToken | None = None
        self._lock = asyncio.Lock()
        self._offsets_used: tuple[int, set[int]] = (0, set())  # (iat, its exp offsets)
        self.refresh_count = 0

    def _fresh(self) -> _CachedToken | None:
        token = self._token
        if token is None:
            return None
        margin = min(self._margin, token.lifetime / 2)
        return token if token.expires_at - self._clock() > margin else None

    async def token(self) -> str:
        return (await self._get()).value

    def invalidate(self, value: str) -> None:
        """Drop the token Unico refused, unless a newer one has already replaced it."""
        if self._token and self._token.value == value:
            self._token = None

    async def _get(self) -> _CachedToken:
        if token := self._fresh():
            return token
        async with self._lock:
            # Another caller may have refreshed while this one waited for the lock.
            if current := self._fresh():
                return current
            with remote_call(
                TELEMETRY, UNICO_AUTH.name, "POST", TOKEN_ROUTE, also_count=TOKEN_REFRESHES_METRIC
            ) as call:
                self._token = await self._request_token()
                call.answered(200)
            return self._token

    async def _request_token(self) -> _CachedToken:
        sent_at = self._clock()
        assertion = build_assertion(self._account, sent_at, self._unused_exp_offset(sent_at))
        self.refresh_count += 1
        try:
            response = await self._http.post(
                self._account.token_url,
                data={"grant_type": GRANT_TYPE, "assertion": assertion},
            )
        except httpx.TransportError as exc:
            raise_for_transport(UNICO_AUTH.name, exc)
        if response.status_code != 200:
            raise_for_answer(UNICO_AUTH, response)
        try:
            body = response.json()
            value, lifetime = str(body["access_token"]), float(body["expires_in"])
        except (ValueError, KeyError, TypeError):
            raise_for_answer(UNICO_AUTH, response)
        # Honour expires_in: Unico says the lifetime may vary with the tenant's settings.
        return _CachedToken(value, sent_at + lifetime, lifetime)

    def _unused_exp_offset(self, now: float) -> int:
        """An `exp` offset this cache has not used with the same `iat` (see build_assertion).

        Every offset of the second counts, not only the last: refused tokens refreshed in a
        quick row sign several assertions in one second, and any two alike are one reused.
        """
        issued_at = int(now)
        second, used = self._offsets_used
        if second != issued_at:
            used = set()
            self._offsets_used = (issued_at, used)
        if len(used) >= len(EXP_OFFSETS):  # never in practice: each waited for Unico's answer
            raise RuntimeError("every assertion of this second is spent")
        # From a random one up, wrapping, to the first free one: some are free, so it ends.
        start = secrets.randbelow(len(EXP_OFFSETS))
        for step in range(len(EXP_OFFSETS)):
            offset = EXP_OFFSETS[(start + step) % len(EXP_OFFSETS)]
            if offset not in used:
                break
        used.add(offset)
        return offset

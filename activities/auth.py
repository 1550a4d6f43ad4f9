"""Service-account authentication: RS256 assertion -> access token, cached per worker.

Unico's token endpoint takes a JWT bearer grant whose assertion carries exactly `iss`,
`aud`, `scope`, `iat` and `exp` (any other claim is refused with 1.2.22) and can be used
once (1.2.7), so every refresh signs a fresh assertion. The token stays inside the worker:
activities ask the cache for it and the workflow only ever sees `TokenInfo`.
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

from activities.errors import raise_for_transport, raise_for_unico
from activities.telemetry import TOKEN_REFRESHES_METRIC, unico_call
from workflows.models import TokenInfo

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SYSTEM = "unico-auth"
TOKEN_ROUTE = "/oauth2/token"
ASSERTION_LIFETIME_SECONDS = 600  # well under Unico's 3600 s ceiling for exp - iat
EXP_JITTER_SECONDS = 300


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


def build_assertion(account: ServiceAccount, now: float) -> str:
    """A single-use assertion with exactly the claims Unico accepts.

    RS256 signatures are deterministic and `iat` has one-second resolution, so two
    assertions signed in the same second (two workers of a fleet, a refresh right after a
    refused token) would be identical and the second refused as reused (1.2.7). A random
    shortening of `exp` makes each one distinct without adding a claim.
    """
    issued_at = int(now)
    claims = {
        "iss": account.issuer,
        "aud": account.audience,
        "scope": "*",
        "iat": issued_at,
        "exp": issued_at + ASSERTION_LIFETIME_SECONDS - secrets.randbelow(EXP_JITTER_SECONDS),
    }
    return jwt.encode(claims, account.private_key_pem, algorithm="RS256")


@dataclass
class _CachedToken:
    value: str
    expires_at: float


class TokenCache:
    """One access token per worker, refreshed once for all concurrent callers.

    A token is served while more than `safety_margin` seconds of it remain, so that a call
    made with it cannot expire in flight.
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
        self.refresh_count = 0

    def _fresh(self) -> _CachedToken | None:
        token = self._token
        if token and token.expires_at - self._clock() > self._margin:
            return token
        return None

    async def token(self) -> str:
        return (await self._get(force=False))[0].value

    async def info(self, force_refresh: bool = False) -> TokenInfo:
        token, refreshed = await self._get(force=force_refresh)
        return TokenInfo(
            expires_in_seconds=max(0.0, token.expires_at - self._clock()), refreshed=refreshed
        )

    def invalidate(self, value: str) -> None:
        """Drop the token Unico refused, unless a newer one has already replaced it."""
        if self._token and self._token.value == value:
            self._token = None

    async def _get(self, force: bool) -> tuple[_CachedToken, bool]:
        stale = self._token
        if not force and (token := self._fresh()):
            return token, False
        async with self._lock:
            # Another caller may have refreshed while this one waited for the lock.
            current = self._fresh()
            if current and (not force or current is not stale):
                return current, False
            with unico_call(SYSTEM, "POST", TOKEN_ROUTE, also_count=TOKEN_REFRESHES_METRIC) as call:
                self._token = await self._request_token()
                call.answered(200)
            return self._token, True

    async def _request_token(self) -> _CachedToken:
        sent_at = self._clock()
        assertion = build_assertion(self._account, sent_at)
        self.refresh_count += 1
        try:
            response = await self._http.post(
                self._account.token_url,
                data={"grant_type": GRANT_TYPE, "assertion": assertion},
            )
        except httpx.TransportError as exc:
            raise_for_transport(SYSTEM, exc)
        if response.status_code != 200:
            raise_for_unico(response, system=SYSTEM)
        try:
            body = response.json()
            value, lifetime = str(body["access_token"]), float(body["expires_in"])
        except (ValueError, KeyError, TypeError):
            raise_for_unico(response, system=SYSTEM)
        # Honour expires_in: Unico says the lifetime may vary with the tenant's settings.
        return _CachedToken(value, sent_at + lifetime)

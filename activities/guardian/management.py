"""Auth0's Management API: a client-credentials token, and enrollment tickets.

The token is cached per worker until shortly before it expires, like Unico's; a ticket
call refused with `invalid_token` drops it and asks once more with a new one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from temporalio.exceptions import ApplicationError

from activities.client_credentials import ClientCredentials, CredentialsUnavailable
from activities.guardian.calls import post
from onboarding_client.contract.errors import ErrorClass

EARLY_REFRESH_SECONDS = 60  # a token this close to its expiry is renewed first


@dataclass
class _Token:
    value: str
    expires_at: float  # monotonic


class ManagementApi:
    def __init__(
        self, http: httpx.AsyncClient, tenant_url: str, credentials: ClientCredentials
    ) -> None:
        self._http = http
        self._url = tenant_url.rstrip("/")
        self._credentials = credentials
        self._token: _Token | None = None

    async def ticket(self, user_id: str) -> str:
        """A single-use enrollment ticket for the Auth0 user."""
        for fresh in (False, True):
            token = await self._bearer(fresh)
            try:
                response = await post(
                    self._http,
                    f"{self._url}/api/v2/guardian/enrollments/ticket",
                    "/api/v2/guardian/enrollments/ticket",
                    {"user_id": user_id, "send_mail": False},
                    f"Bearer {token}",
                )
            except ApplicationError as refused:
                if refused.type != ErrorClass.TOKEN_EXPIRED or fresh:
                    raise
                self._token = None
                continue
            return str(response.json()["ticket_id"])
        raise AssertionError("unreachable")

    async def _bearer(self, fresh: bool) -> str:
        now = time.monotonic()
        if not fresh and self._token and self._token.expires_at - EARLY_REFRESH_SECONDS > now:
            return self._token.value
        try:
            secret = self._credentials.secret_value()
        except CredentialsUnavailable as exc:
            raise ApplicationError(
                str(exc), type=ErrorClass.CONFIGURATION.value, non_retryable=True
            ) from None
        response = await post(
            self._http,
            f"{self._url}/oauth/token",
            "/oauth/token",
            {
                "grant_type": "client_credentials",
                "client_id": self._credentials.client_id,
                "client_secret": secret,
                "audience": f"{self._url}/api/v2/",
            },
        )
        body = response.json()
        lifetime = float(body.get("expires_in") or 0)
        self._token = _Token(str(body["access_token"]), now + lifetime)
        return self._token.value

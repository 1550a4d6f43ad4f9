"""The tenant's side: the client-credentials grant (`/oauth/token`) and the Management API's
`POST /api/v2/guardian/enrollments/ticket`.

The grant checks in the order Auth0's answers suggest: the grant type, then the client,
then the audience, which must be this tenant's Management API (`<tenant>/api/v2/`). The
secret and the scopes granted are read from the runtime settings at each call, so that
`POST /_sandbox/config` can rotate the secret or narrow the scopes mid-run; a token keeps
the scopes it was issued with, as a signed JWT would.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers

from sandbox.config import Runtime
from sandbox.guardian import parsing
from sandbox.guardian.errors import AuthError, GuardianError
from sandbox.guardian.tickets import TicketStore
from sandbox.guardian.times import WALL, Clock

GRANT_TYPE = "client_credentials"
TICKET_SCOPE = "create:guardian_enrollment_tickets"
TICKET_FIELDS = {"user_id": str, "email": str, "send_mail": bool, "factor": str}


@dataclass(frozen=True)
class _Token:
    scopes: frozenset[str]
    expires_at: float


def _same(given: object, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


class Management:
    def __init__(
        self, client_id: str, runtime: Runtime, tickets: TicketStore, clock: Clock = WALL
    ) -> None:
        self._client_id, self._runtime, self._tickets = client_id, runtime, tickets
        self._clock = clock
        self._tokens: dict[str, _Token] = {}

    def issue_token(self, fields: Mapping[str, Any], audience: str) -> dict[str, Any]:
        """A Management API token for the configured client; `audience` is the only one
        this tenant serves."""
        grant_type = fields.get("grant_type")
        if not grant_type:
            raise AuthError("invalid_request", "Missing required parameter: grant_type")
        if grant_type != GRANT_TYPE:
            raise AuthError("unsupported_grant_type", "Unsupported grant type")
        right_id = _same(fields.get("client_id"), self._client_id)
        right_secret = _same(fields.get("client_secret"), self._runtime.auth0_client_secret)
        if not (right_id and right_secret):
            raise AuthError("access_denied", "Unauthorized")
        given = fields.get("audience")
        if given != audience:
            shown = given if isinstance(given, str) else ""
            raise AuthError("access_denied", f"Service not enabled within domain: {shown}", 403)
        scope = " ".join(self._runtime.auth0_scopes.split())
        lifetime = self._runtime.auth0_token_lifetime_seconds
        token = secrets.token_urlsafe(32)
        self._tokens[token] = _Token(frozenset(scope.split()), self._clock() + lifetime)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": scope,
        }

    def create_ticket(self, headers: Headers, body: bytes, base_url: str) -> dict[str, Any]:
        """A ticket for `user_id`; its URL is Guardian's page under `base_url`."""
        token = self._tokens.get(parsing.bearer(headers))
        if token is None or self._clock() >= token.expires_at:
            raise GuardianError("invalid_token", "Invalid or expired token")
        if TICKET_SCOPE not in token.scopes:
            raise GuardianError(
                "insufficient_scope", f"Insufficient scope; expected: {TICKET_SCOPE}"
            )
        payload = parsing.json_object(body)
        if payload is None:
            raise GuardianError("invalid_body", "The body must be a JSON object")
        for name, kind in TICKET_FIELDS.items():
            if name in payload and not isinstance(payload[name], kind):
                raise GuardianError("invalid_body", f"{name} must be a {kind.__name__}")
        if not payload.get("user_id"):
            raise GuardianError("invalid_body", "Missing required property: user_id")
        # send_mail would have Auth0 e-mail the link; the sandbox sends no mail.
        ticket_id = self._tickets.issue(payload["user_id"])
        return {
            "ticket_id": ticket_id,
            "ticket_url": f"{base_url}/guardian/enroll?ticket={ticket_id}",
        }

    def reset(self) -> None:
        self._tokens.clear()

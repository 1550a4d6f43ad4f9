"""The two error envelopes of Auth0's APIs.

The authentication API (`/oauth/token`) answers OAuth's `{"error", "error_description"}`.
The Management API and Guardian answer `{"statusCode", "error", "message", "errorCode"}`:
`error` is the HTTP reason phrase, `errorCode` the machine code a client branches on. A
message names what is wrong, never a value: no phone number, code or token is echoed.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

# The status a Guardian code comes with when nothing else says (Auth0's SDK tests; the rest
# by meaning: not-found codes 404, limits 429, delivery failures 500).
GUARDIAN_STATUS: Mapping[str, int] = {
    "invalid_token": 401,
    "invalid_bearer_format": 401,
    "invalid_otp": 401,
    "invalid_recovery_code": 401,
    "insufficient_scope": 403,
    "feature_disabled": 403,
    "feature_disabled_by_admin": 403,
    "enrollment_conflict": 409,
    "too_many_sms": 429,
    "too_many_pn": 429,
    "too_many_sms_per_tenant": 429,
    "too_many_pn_per_tenant": 429,
    "error_sending_sms": 500,
    "error_sending_push_notification": 500,
    "push_notification_wrong_credentials": 500,
    "invalid_phone_number": 400,
    "invalid_body": 400,
    "invalid_query_string": 400,
}

# The same for the authentication API's codes (RFC 6749 section 5.2, and Auth0's own).
AUTH_STATUS: Mapping[str, int] = {
    "invalid_request": 400,
    "unsupported_grant_type": 400,
    "invalid_grant": 400,
    "invalid_client": 401,
    "access_denied": 401,
    "unauthorized_client": 403,
    "too_many_requests": 429,
    "server_error": 500,
}


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def guardian_status(code: str) -> int:
    """The status a Guardian `errorCode` comes with by default."""
    if code in GUARDIAN_STATUS:
        return GUARDIAN_STATUS[code]
    if code.endswith("_not_found"):
        return 404
    if code.startswith("too_many_"):
        return 429
    return 400


def guardian_body(status: int, message: str, code: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"statusCode": status, "error": phrase(status), "message": message}
    if code is not None:
        body["errorCode"] = code
    return body


class GuardianError(Exception):
    """A refusal of the Management API or of Guardian, in their envelope."""

    def __init__(
        self,
        code: str,
        message: str,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.status_code = status_code or guardian_status(code)
        self.body: Mapping[str, Any] = guardian_body(self.status_code, message, code)
        self.headers = dict(headers or {})

    @classmethod
    def internal(cls) -> GuardianError:
        """A bug of ours: a 500 in the envelope, with a code no refusal uses."""
        return cls("internal_error", "Internal failure", 500)


class AuthError(Exception):
    """A refusal of the authentication API (`/oauth/token`)."""

    def __init__(self, code: str, description: str, status_code: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.status_code = status_code or AUTH_STATUS.get(code, 400)
        self.body: Mapping[str, Any] = {"error": code, "error_description": description}
        self.headers: dict[str, str] = {}

    @classmethod
    def internal(cls) -> AuthError:
        return cls("server_error", "Internal failure", 500)

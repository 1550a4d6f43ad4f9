"""One call to Identity Cloud's entity API, and what its answer means.

Every answer is HTTP 200 with a `stat` field, so the body, not the status, says whether a
call failed. `stat: ok` is the answer; `stat: error` is classified from the catalog by its
code (activities/errors.py); a body that is not JSON (an empty answer, a proxy's error page)
is a transport-level failure, classified by its HTTP status. No call is made twice here:
the activity's retry policy retries what its class allows.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

from activities.client_credentials import ClientCredentials, CredentialsUnavailable
from activities.errors import (
    ErrorDetails,
    application_error,
    parse_error,
    raise_for_transport,
    retry_after,
)
from activities.identity_cloud.errors import IDENTITY_CLOUD_ERRORS, TELEMETRY
from activities.telemetry import remote_call
from onboarding_client.contract.errors import ErrorClass

SYSTEM = IDENTITY_CLOUD_ERRORS.name


class EntityApi:
    def __init__(
        self, http: httpx.AsyncClient, url: str, credentials: ClientCredentials, type_name: str
    ) -> None:
        self._http = http
        self._url = url.rstrip("/")
        self._credentials = credentials
        self.type_name = type_name

    async def call(self, operation: str, **fields: Any) -> dict[str, Any]:
        """`stat: ok`'s body, or the classified ApplicationError. Structured values (a dict
        or a list) go as JSON text in their form field, as the API wants them."""
        form = {"type_name": self.type_name}
        form |= {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()}
        with remote_call(TELEMETRY, SYSTEM, "POST", f"/{operation}") as call:
            try:
                headers = {"Authorization": self._credentials.authorization()}
            except CredentialsUnavailable as exc:
                raise ApplicationError(
                    str(exc), type=ErrorClass.CONFIGURATION.value, non_retryable=True
                ) from None
            try:
                response = await self._http.post(
                    f"{self._url}/{operation}", data=form, headers=headers
                )
            except httpx.TransportError as exc:
                # A create may have arrived: retrying it is safe all the same, since the
                # person's unique key refuses a second record (361) and the step adopts it.
                raise_for_transport(SYSTEM, exc)
            call.answered(response.status_code)
            body = _json(response)
            if body is not None and body.get("stat") == "ok":
                return body
            if body is None:
                details = ErrorDetails(SYSTEM, None, "the answer is not JSON", response.status_code)
            else:
                details = parse_error(IDENTITY_CLOUD_ERRORS, response)
            raise application_error(
                IDENTITY_CLOUD_ERRORS, details, next_retry_delay=retry_after(response)
            )


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None

"""One JSON POST to Auth0 or Guardian, and what its answer means.

A 2xx is the answer (Guardian's confirmations are empty); any other status is classified
from the MFA catalog by the body's `errorCode` (or Auth0's `error`), then by the HTTP status
(activities/errors.py). The classified error keeps the raw code in its details, so the
activities read a code (`invalid_otp`, `too_many_sms`) where its meaning is the step's, not
the class's.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.exceptions import ApplicationError

from activities.errors import (
    application_error,
    carried_details,
    parse_error,
    raise_for_transport,
    retry_after,
)
from activities.guardian.errors import MFA_ERRORS, TELEMETRY
from activities.telemetry import remote_call

SYSTEM = MFA_ERRORS.name


async def post(
    http: httpx.AsyncClient,
    url: str,
    route: str,
    body: dict[str, Any],
    authorization: str | None = None,
) -> httpx.Response:
    """The 2xx answer, or the classified ApplicationError; `route` is the span's template."""
    headers = {"Authorization": authorization} if authorization else {}
    with remote_call(TELEMETRY, SYSTEM, "POST", route) as call:
        try:
            response = await http.post(url, json=body, headers=headers)
        except httpx.TransportError as exc:
            raise_for_transport(SYSTEM, exc)
        call.answered(response.status_code)
        if response.is_success:
            return response
        delay = retry_after(response) or rate_limit_wait(response)
        details = parse_error(MFA_ERRORS, response)
        raise application_error(MFA_ERRORS, details, next_retry_delay=delay)


def code_of(error: ApplicationError) -> str | None:
    """The remote's own code in an error raised by `post`."""
    carried = carried_details(error)
    return carried[0].code if carried else None


def rate_limit_wait(response: httpx.Response) -> timedelta | None:
    """Until `x-ratelimit-reset` (epoch seconds), when the answer says when."""
    reset = reset_at(response)
    if reset is None:
        return None
    return max(reset - datetime.now(UTC), timedelta(seconds=1))


def reset_at(response: httpx.Response) -> datetime | None:
    value = response.headers.get("x-ratelimit-reset", "").strip()
    if not value.isdigit():
        return None
    return datetime.fromtimestamp(int(value), UTC)

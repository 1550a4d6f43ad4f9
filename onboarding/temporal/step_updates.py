"""Sending one of the journey's updates (a reviewer's answer, a person's code) to an
onboarding, and telling the caller in one line why it was refused.

The workflow's validators refuse with a code as the error's type (`review.*`, Guardian's
`invalid_otp_format`, `mfa.not_awaiting`); an onboarding that has ended, or never existed,
is told apart from one that refused.
"""

from __future__ import annotations

from typing import Any, TypeVar

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from onboarding_client.onboardings import handle_for

T = TypeVar("T")


class UpdateRefused(Exception):
    """The workflow would not take the update: `code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{message} ({code})")
        self.code = code


async def send_update(
    client: Client,
    request_id: str,
    update: str,
    arg: Any,
    result_type: type[T],
    *,
    not_running_code: str,
    waits_for: str,
) -> T:
    """The update's answer, or `UpdateRefused` (`not_running_code` when the onboarding has
    ended or never existed; `waits_for` names what no longer waits, for the message)."""
    args = [] if arg is None else [arg]
    try:
        answer: T = await handle_for(client, request_id).execute_update(
            update, args=args, result_type=result_type
        )
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError):
            raise UpdateRefused(cause.type or f"{update}.refused", cause.message) from None
        raise
    except RPCError as exc:
        # Ended before this update reached it (another answer closed it), or never began.
        if exc.status == RPCStatusCode.NOT_FOUND or "closing workflow" in exc.message:
            why = await _why_not_running(client, request_id, waits_for)
            raise UpdateRefused(not_running_code, why) from None
        raise
    return answer


async def _why_not_running(client: Client, request_id: str, waits_for: str) -> str:
    try:
        described = await handle_for(client, request_id).describe()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        return f"no onboarding has request id {request_id}"
    status = described.status.name.lower() if described.status else "closed"
    return f"onboarding {request_id} has ended ({status}): no {waits_for} waits"

"""The MFA conversation from the app's side: the person's code, and another SMS.

Both are updates on the onboarding (`submit_otp`, `resend_otp`): the answer comes back in
the same call. The code travels only inside the update's payload, encrypted like every
payload; the answer's recovery code likewise.
"""

from __future__ import annotations

from temporalio.client import Client

from contracts.mfa import NOT_AWAITING, OtpAnswer, ResendAnswer
from onboarding.temporal.step_updates import send_update
from onboarding_client.contract.names import RESEND_OTP_UPDATE, SUBMIT_OTP_UPDATE


async def submit_code(client: Client, request_id: str, code: str) -> OtpAnswer:
    """Guardian's verdict on the person's code, or `UpdateRefused` (a malformed code, no
    enrollment waiting)."""
    return await send_update(
        client,
        request_id,
        SUBMIT_OTP_UPDATE,
        {"code": code},
        OtpAnswer,
        not_running_code=NOT_AWAITING,
        waits_for="MFA enrollment",
    )


async def resend_code(client: Client, request_id: str) -> ResendAnswer:
    """Another SMS, or why not (`too_many_sms` and when to try again)."""
    return await send_update(
        client,
        request_id,
        RESEND_OTP_UPDATE,
        None,
        ResendAnswer,
        not_running_code=NOT_AWAITING,
        waits_for="MFA enrollment",
    )

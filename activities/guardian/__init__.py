"""Auth0 and Guardian: the MFA step's activities (`start_mfa_enrollment`, `send_otp_sms`,
`verify_otp`), on the `<task queue>-guardian` queue under `GUARDIAN_REQUESTS_PER_SECOND`.

`management.py` is Auth0's Management API (a token, an enrollment ticket),
`enrollment_api.py` Guardian's (start the flow, send the SMS, check the code), `calls.py`
one call and its answer, and `enrollments.py` the activities. The Guardian transaction (its
token, the device account, the recovery code) never reaches the workflow in a form it can
read: `sealing` seals it with a key derived from the workers' payload keys, for the
workflow to carry and hand back. Without settings, the activities answer `configuration`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from activities.client_credentials import ClientCredentials
from activities.guardian.enrollment_api import GuardianApi
from activities.guardian.enrollments import MfaActivities, e164
from activities.guardian.errors import MFA_ERRORS, TELEMETRY
from activities.guardian.management import ManagementApi
from activities.guardian.sealing import TransactionSeal
from activities.guardian.settings import GuardianSettings
from activities.system import Activities, RemoteSystem, Shared
from contracts.mfa import GUARDIAN


@asynccontextmanager
async def mfa_activities(settings: GuardianSettings, shared: Shared) -> AsyncIterator[Activities]:
    """The MFA step's activities, with their own HTTP client and Auth0 token cache."""
    seal = TransactionSeal(shared.payload_keys, shared.current_key_id)
    template = settings.guardian_user_id_template
    if not settings.check():
        yield MfaActivities(None, None, seal, template).all()
        return
    assert settings.auth0_tenant_url and settings.auth0_client_id and settings.guardian_url
    secret = settings.auth0_client_secret
    credentials = ClientCredentials(
        settings.auth0_client_id,
        secret.get_secret_value() if secret else None,
        settings.auth0_client_secret_file,
        setting="AUTH0_CLIENT_SECRET",
    )
    timeout = httpx.Timeout(settings.guardian_timeout_seconds)
    async with httpx.AsyncClient(timeout=timeout) as http:
        management = ManagementApi(http, settings.auth0_tenant_url, credentials)
        guardian = GuardianApi(http, settings.guardian_url)
        yield MfaActivities(management, guardian, seal, template).all()


SYSTEM = RemoteSystem(
    name=GUARDIAN,
    title="Auth0 Guardian MFA",
    settings=GuardianSettings,
    rate_setting="GUARDIAN_REQUESTS_PER_SECOND",
    error_systems=(MFA_ERRORS,),
    telemetry=TELEMETRY,
    activities=mfa_activities,
    after_approval=True,
)

__all__ = ["SYSTEM", "GuardianSettings", "e164"]

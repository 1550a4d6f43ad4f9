"""Akamai Identity Cloud: the account step's activity (`register_account`), on the
`<task queue>-identity-cloud` queue under `IDENTITY_CLOUD_REQUESTS_PER_SECOND`.

`mapping.py` turns the person into the record's attributes, `entity_api.py` makes one call
and reads its answer (HTTP 200 with `stat`), and `accounts.py` is the activity: create the
record, or adopt the one that holds the CPF. Without settings, the activity answers
`configuration` and an onboarding that asks for an account waits for an operator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from activities.client_credentials import ClientCredentials
from activities.identity_cloud.accounts import AccountActivities
from activities.identity_cloud.entity_api import EntityApi
from activities.identity_cloud.errors import IDENTITY_CLOUD_ERRORS, TELEMETRY
from activities.identity_cloud.settings import IdentityCloudSettings
from activities.system import Activities, RemoteSystem, Shared
from contracts.account import IDENTITY_CLOUD


@asynccontextmanager
async def account_activities(
    settings: IdentityCloudSettings, shared: Shared
) -> AsyncIterator[Activities]:
    """The account step's activity, with its own HTTP client."""
    mapping = settings.mapping()
    if not settings.check():
        yield AccountActivities(None, mapping).all()
        return
    assert settings.url and settings.client_id
    secret = settings.client_secret
    credentials = ClientCredentials(
        settings.client_id,
        secret.get_secret_value() if secret else None,
        settings.client_secret_file,
    )
    async with httpx.AsyncClient(timeout=httpx.Timeout(settings.timeout_seconds)) as http:
        api = EntityApi(http, settings.url, credentials, settings.entity_type)
        yield AccountActivities(api, mapping).all()


SYSTEM = RemoteSystem(
    name=IDENTITY_CLOUD,
    title="Akamai Identity Cloud",
    settings=IdentityCloudSettings,
    rate_setting="IDENTITY_CLOUD_REQUESTS_PER_SECOND",
    error_systems=(IDENTITY_CLOUD_ERRORS,),
    telemetry=TELEMETRY,
    activities=account_activities,
    after_approval=True,
)

__all__ = ["SYSTEM", "IdentityCloudSettings"]

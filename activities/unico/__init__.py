"""Unico IDCloud by Client: the service account's token, and the process API.

`SYSTEM` is all the rest of the product needs: the activities (`open_process`,
`read_process`, on the `<task queue>-unico` queue under `UNICO_REQUESTS_PER_SECOND`), the
settings, the two error systems (the token endpoint's and the process API's) and the
telemetry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from activities.system import Activities, RemoteSystem, Shared
from activities.unico.auth import ServiceAccount, TokenCache
from activities.unico.errors import TELEMETRY, UNICO_AUTH, UNICO_PROCESS
from activities.unico.processes import UnicoActivities
from activities.unico.settings import UnicoSettings
from contracts.unico import UNICO


@asynccontextmanager
async def unico_activities(settings: UnicoSettings, shared: Shared) -> AsyncIterator[Activities]:
    """One pooled HTTP client and one token cache for every Unico call of this worker."""
    settings.check()
    assert settings.service_account is not None and settings.api_key is not None
    account = ServiceAccount(
        settings.service_account,
        settings.token_audience,
        settings.token_url,
        settings.private_key_pem(),
    )
    timeout = httpx.Timeout(settings.read_timeout_seconds, connect=settings.connect_timeout_seconds)
    limits = httpx.Limits(max_connections=settings.max_connections)
    async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
        activities = UnicoActivities(
            http=http,
            tokens=TokenCache(account, http, settings.token_safety_margin_seconds),
            selfies=shared.selfies,
            api_url=settings.api_url,
            api_key=settings.api_key,
            cleanup=shared.cleanup,
            capture_required=settings.capture_required,
            webhook_wait=settings.webhook_first_read_seconds if settings.webhooks else None,
        )
        yield activities.all()


SYSTEM = RemoteSystem(
    name=UNICO,
    title="Unico IDCloud",
    settings=UnicoSettings,
    rate_setting="UNICO_REQUESTS_PER_SECOND",
    error_systems=(UNICO_AUTH, UNICO_PROCESS),
    telemetry=TELEMETRY,
    activities=unico_activities,
)

__all__ = ["SYSTEM", "ServiceAccount", "TokenCache", "UnicoActivities", "UnicoSettings"]

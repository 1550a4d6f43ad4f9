"""The real worker's Temporal workers in this process, for the integration tests: as
`python -m worker` wires them (`worker.serving`), from an environment of variables, each
build current in a deployment of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.worker import Worker

from activities.selfies import SelfieCleanup, SelfieStore
from activities.unico import ServiceAccount, TokenCache, UnicoActivities, UnicoSettings
from devstack.versions import make_current
from onboarding.runtime.settings import Settings, settings_from
from worker import serving


def environment_with(environment: Mapping[str, str], **overrides: object) -> dict[str, str]:
    """`environment` with `overrides` (variables, lower-case allowed) laid over it."""
    return {**environment, **{name.upper(): str(value) for name, value in overrides.items()}}


@dataclass(frozen=True)
class Served:
    """Workers running: their settings, and them."""

    settings: Settings
    workers: Sequence[Worker]

    def token_cache(self) -> TokenCache:
        """The Unico token cache the workers' calls share."""
        for worker in self.workers:
            for function in worker.config()["activities"] or ():
                owner = getattr(function, "__self__", None)
                if isinstance(owner, UnicoActivities):
                    return owner.tokens
        raise LookupError("no Unico activities among the workers")


@asynccontextmanager
async def serving_workers(
    client: Client, environment: Mapping[str, str], **overrides: object
) -> AsyncIterator[Served]:
    """The workers of `environment` (with `overrides`), polling and current."""
    environment = environment_with(environment, **overrides)
    settings = settings_from(Settings, environment)
    assert settings.temporal_worker_build_id is not None
    async with serving(client, settings, environment) as workers:
        version = WorkerDeploymentVersion(
            settings.temporal_deployment_name, settings.temporal_worker_build_id
        )
        await make_current(client, version)
        yield Served(settings, workers)


def unico_activities_for(
    environment: Mapping[str, str], http: httpx.AsyncClient, retention: float = 0
) -> UnicoActivities:
    """The Unico activities of `environment`'s worker, to run one by one."""
    unico = settings_from(UnicoSettings, environment)
    assert unico.service_account and unico.api_key
    account = ServiceAccount(
        unico.service_account, unico.token_audience, unico.token_url, unico.private_key_pem()
    )
    store = SelfieStore(Path(environment["SELFIE_DIR"]))
    return UnicoActivities(
        http,
        TokenCache(account, http, unico.token_safety_margin_seconds),
        store,
        unico.api_url,
        unico.api_key,
        SelfieCleanup(store, retention),
    )

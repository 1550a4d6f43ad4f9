"""How the product's own processes reach Temporal and the gateway: the caller's client
(`onboarding_client`) with the product's settings, tracing and diagnostics."""

from __future__ import annotations

from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from onboarding.runtime.errors import StackUnavailable
from onboarding.runtime.settings import Settings
from onboarding.runtime.telemetry import tracing_plugins
from onboarding.temporal.connection import TemporalTarget, explain_failure, within_connect_timeout
from onboarding.temporal.converter import data_converter_for
from onboarding_client import selfies
from onboarding_client.contract.names import (
    RETENTION_ID_PREFIX,
    SEARCH_ATTRIBUTES,
    search_attribute_type,
)


async def connect(
    settings: Settings,
    runtime: Runtime | None = None,
    *,
    target: TemporalTarget | None = None,
    lazy: bool = False,
    worker: bool = False,
) -> Client:
    """The one way our processes reach Temporal: a traced client whose payloads are
    encrypted (workers made from it do the same); `runtime` serves metrics.

    `target` defaults to the profile and variables of this process's environment. A wrong
    setting (TLS, API key, profile) raises `TemporalSettingError` at once; a server that
    cannot be reached raises `StackUnavailable`, unless `lazy`: then the client connects on
    first use, for a service that must start while Temporal is down. `worker`: the worker's
    converter, which refuses what came in clear. `SettingsError` when no payload key is
    configured.
    """
    target = target or TemporalTarget.from_environment()
    options = {
        **target.connect_options(),
        "data_converter": data_converter_for(settings, worker=worker),
        "plugins": tracing_plugins(settings),
        "runtime": runtime,
    }
    try:
        return await within_connect_timeout(target, Client.connect(**options))
    except RuntimeError as exc:
        problem = explain_failure(target, exc)
    except StackUnavailable as exc:
        problem = exc
    if lazy and isinstance(problem, StackUnavailable):
        return await Client.connect(**options, lazy=True)
    raise problem


async def store_selfie(settings: Settings, selfie: bytes, preview: bytes | None = None) -> str:
    """`onboarding_client.selfies.store_selfie` to GATEWAY_URL with GATEWAY_API_TOKEN;
    `StackUnavailable` when the gateway cannot be reached, ValueError when it refuses."""
    token = settings.gateway_api_token
    secret = None if token is None else token.get_secret_value()
    try:
        return await selfies.store_selfie(settings.gateway_url, secret, selfie, preview)
    except selfies.GatewayUnreachable as exc:
        raise StackUnavailable(str(exc)) from None


async def missing_search_attributes(client: Client) -> list[str]:
    """Our search attributes the namespace lacks (`Name=Type`), for a worker to refuse to
    start rather than fail every task that would upsert one. Empty when the server does not
    let this client list them (an API key without that permission): nothing to say then."""
    request = ListSearchAttributesRequest(namespace=client.namespace)
    try:
        known = await client.operator_service.list_search_attributes(request)
    except RPCError as exc:
        if exc.status in (RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.UNIMPLEMENTED):
            return []
        raise
    return [
        f"{key.name}={search_attribute_type(key)}"
        for key in SEARCH_ATTRIBUTES
        if known.custom_attributes.get(key.name) != int(key.indexed_value_type)
    ]


async def onboarding_open(client: Client, workflow_id: str) -> bool:
    """Whether the onboarding `workflow_id`, or the retention timer of its selfie, still
    runs: the selfie sweep asks before it deletes a claimed selfie. When Temporal cannot
    say, the answer is yes (the selfie waits for the next sweep)."""
    for keeper in (workflow_id, RETENTION_ID_PREFIX + workflow_id):
        try:
            description = await client.get_workflow_handle(keeper).describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                continue
            return True
        if description.status == WorkflowExecutionStatus.RUNNING:
            return True
    return False

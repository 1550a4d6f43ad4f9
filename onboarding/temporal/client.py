"""What other services call: start an onboarding, read its status and its result."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from contracts.names import (
    RETENTION_ID_PREFIX,
    SEARCH_ATTRIBUTES,
    STAGE_ATTRIBUTE,
    STATUS_QUERY,
    WORKFLOW_TYPE,
    search_attribute_type,
    workflow_id_for,
)
from contracts.request import OnboardingRequest
from contracts.result import OnboardingResult
from contracts.status import OnboardingStatus, Stage
from onboarding.runtime.errors import StackUnavailable
from onboarding.runtime.settings import Settings
from onboarding.runtime.telemetry import tracing_plugins
from onboarding.temporal.connection import TemporalTarget, explain_failure, within_connect_timeout
from onboarding.temporal.converter import data_converter_for
from onboarding.temporal.operator_view import static_details, static_summary
from workflows import request_id_exposes_cpf

OnboardingHandle = WorkflowHandle[object, OnboardingResult]
# A gateway with GATEWAY_MAX_CONCURRENT_UPLOADS in flight answers 503 and Retry-After: so
# many tries, each wait at most so long, before the caller hears of it.
UPLOAD_ATTEMPTS = 10
MAX_UPLOAD_WAIT_SECONDS = 5.0


async def connect(
    settings: Settings,
    runtime: Runtime | None = None,
    *,
    target: TemporalTarget | None = None,
    lazy: bool = False,
) -> Client:
    """The one way our processes reach Temporal: a traced client whose payloads are
    encrypted (workers made from it do the same); `runtime` serves metrics.

    `target` defaults to the profile and variables of this process's environment. A wrong
    setting (TLS, API key, profile) raises `TemporalSettingError` at once; a server that
    cannot be reached raises `StackUnavailable`, unless `lazy`: then the client connects on
    first use, for a service that must start while Temporal is down. `SettingsError` when no
    payload key is configured.
    """
    target = target or TemporalTarget.from_environment()
    options = {
        **target.connect_options(),
        "data_converter": data_converter_for(settings),
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


def start_options(request: OnboardingRequest, task_queue: str) -> dict[str, Any]:
    """How an onboarding is started, by a plain start or by update-with-start.

    One request id is one onboarding: a start while it runs joins it (USE_EXISTING), and a
    start after it closed is refused (REJECT_DUPLICATE) and finds the closed one, so a retried
    call never creates a second Unico process.
    """
    if request_id_exposes_cpf(request.request_id, request.subject.code):
        # Refused here, before the id reaches Temporal's visibility store in clear.
        raise ValueError("request_id must not contain the CPF: the workflow id is stored in clear")
    return {
        "id": workflow_id_for(request.request_id),
        "task_queue": task_queue,
        "result_type": OnboardingResult,
        "id_reuse_policy": WorkflowIDReusePolicy.REJECT_DUPLICATE,
        "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
        "static_summary": static_summary(request),
        "static_details": static_details(request),
        # Searchable from the start, and free: keys given at start cost no action.
        "search_attributes": TypedSearchAttributes(
            [SearchAttributePair(STAGE_ATTRIBUTE, Stage.VALIDATING.value)]
        ),
    }


async def start_onboarding(
    client: Client, request: OnboardingRequest, task_queue: str
) -> OnboardingHandle:
    """Start, or join, the onboarding for `request.request_id` (see `start_options`)."""
    options = start_options(request, task_queue)
    try:
        handle: OnboardingHandle = await client.start_workflow(WORKFLOW_TYPE, request, **options)
    except WorkflowAlreadyStartedError:
        return handle_for(client, request.request_id)
    return handle


def handle_for(client: Client, request_id: str) -> OnboardingHandle:
    return client.get_workflow_handle(workflow_id_for(request_id), result_type=OnboardingResult)


async def onboarding_status(client: Client, request_id: str) -> OnboardingStatus:
    status: OnboardingStatus = await handle_for(client, request_id).query(
        STATUS_QUERY, result_type=OnboardingStatus
    )
    return status


async def store_selfie(settings: Settings, selfie: bytes, preview: bytes | None = None) -> str:
    """Upload the selfie to the gateway's claim-check store (GATEWAY_URL, with its bearer
    token GATEWAY_API_TOKEN); only the ref it answers enters Temporal.

    `selfie` is a plain image (PNG, JPEG or WebP bytes) or a capture of Unico's SDK (its
    `encrypted` string, as bytes), told apart by content. Beside a capture, `preview` is the
    image the person saw (the SDK's `base64`, decoded or not): kept for reviewers only,
    never sent to Unico, deleted with the capture. ValueError when the gateway refuses.
    """
    gateway_url = settings.gateway_url
    headers = {}
    if settings.gateway_api_token is not None:
        headers["Authorization"] = f"Bearer {settings.gateway_api_token.get_secret_value()}"
    body = _upload_body(selfie, preview)
    try:
        async with httpx.AsyncClient(timeout=30, headers=headers) as http:
            for attempt in range(1, UPLOAD_ATTEMPTS + 1):
                response = await http.post(gateway_url.rstrip("/") + "/selfies", **body)
                if response.status_code != 503 or attempt == UPLOAD_ATTEMPTS:
                    break
                await asyncio.sleep(busy_gateway_wait(response))
    except httpx.TransportError as exc:
        raise StackUnavailable(f"cannot reach the gateway at {gateway_url} ({exc})") from None
    if response.status_code == 401:
        raise ValueError(
            f"the gateway at {gateway_url} refused the upload: GATEWAY_API_TOKEN is missing or "
            "not the gateway's"
        )
    if response.status_code != 201:
        raise ValueError(f"the gateway refused the selfie: {response.text.strip()}")
    return str(response.json()["selfie_ref"])


def _upload_body(selfie: bytes, preview: bytes | None) -> dict[str, Any]:
    """The raw body for a selfie alone; a multipart body when a preview goes with it."""
    if preview is None:
        return {"content": selfie, "headers": {"Content-Type": "application/octet-stream"}}
    kind = "application/octet-stream"
    return {"files": {"selfie": ("selfie", selfie, kind), "preview": ("preview", preview, kind)}}


def busy_gateway_wait(response: httpx.Response) -> float:
    """Seconds to wait after the gateway's 503 (its uploads in flight at their limit): its
    Retry-After, capped, plus a jitter so that callers turned away together spread out."""
    retry_after = response.headers.get("retry-after", "")
    seconds = min(float(retry_after), MAX_UPLOAD_WAIT_SECONDS) if retry_after.isdigit() else 1.0
    return seconds + random.uniform(0, 0.5)


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

"""What other services call: start an onboarding, read its status and its result."""

from __future__ import annotations

import httpx
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.runtime import Runtime

from onboarding.converter import data_converter_for
from onboarding.operator_view import static_details, static_summary
from onboarding.settings import Settings
from onboarding.telemetry import tracing_plugins
from workflows.models import (
    STATUS_QUERY,
    WORKFLOW_TYPE,
    OnboardingRequest,
    OnboardingResult,
    OnboardingStatus,
    workflow_id_for,
)
from workflows.requests import request_id_exposes_cpf

OnboardingHandle = WorkflowHandle[object, OnboardingResult]


class StackUnavailable(Exception):
    """Temporal or the gateway cannot be reached; the message says which and where."""


async def connect(
    settings: Settings, runtime: Runtime | None = None, *, lazy: bool = False
) -> Client:
    """A traced client whose payloads are encrypted (workers made from it do the same);
    `runtime` serves metrics; `SettingsError` when no payload key is configured.

    `lazy` connects on first use: for a service that must start while Temporal is down.
    """
    converter = data_converter_for(settings)
    try:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=converter,
            plugins=tracing_plugins(settings),
            runtime=runtime,
            lazy=lazy,
        )
    except RuntimeError as exc:
        raise StackUnavailable(
            f"cannot reach Temporal at {settings.temporal_address} ({_first_line(exc)})"
        ) from None


async def start_onboarding(
    client: Client, request: OnboardingRequest, task_queue: str
) -> OnboardingHandle:
    """Start, or join, the onboarding for `request.request_id`.

    One request id is one onboarding: a start while it runs joins it, and a start after it
    closed returns the closed one, so a retried call never creates a second Unico process.
    """
    if request_id_exposes_cpf(request.request_id, request.subject.code):
        # Refused here, before the id reaches Temporal's visibility store in clear.
        raise ValueError("request_id must not contain the CPF: the workflow id is stored in clear")
    workflow_id = workflow_id_for(request.request_id)
    try:
        return await client.start_workflow(
            WORKFLOW_TYPE,
            request,
            id=workflow_id,
            task_queue=task_queue,
            result_type=OnboardingResult,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            static_summary=static_summary(request),
            static_details=static_details(request),
        )
    except WorkflowAlreadyStartedError:
        return handle_for(client, request.request_id)


def handle_for(client: Client, request_id: str) -> OnboardingHandle:
    return client.get_workflow_handle(workflow_id_for(request_id), result_type=OnboardingResult)


async def onboarding_status(client: Client, request_id: str) -> OnboardingStatus:
    status: OnboardingStatus = await handle_for(client, request_id).query(
        STATUS_QUERY, result_type=OnboardingStatus
    )
    return status


async def store_selfie(gateway_url: str, image: bytes) -> str:
    """Upload the selfie to the gateway's claim-check store; only its ref enters Temporal."""
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.post(
                gateway_url.rstrip("/") + "/selfies",
                content=image,
                headers={"Content-Type": "application/octet-stream"},
            )
    except httpx.TransportError as exc:
        raise StackUnavailable(f"cannot reach the gateway at {gateway_url} ({exc})") from None
    if response.status_code != 201:
        raise ValueError(f"the gateway refused the selfie: {response.text.strip()}")
    return str(response.json()["selfie_ref"])


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

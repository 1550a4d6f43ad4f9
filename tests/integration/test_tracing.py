"""Tracing: one onboarding is one trace, from the caller's start to the decision, PII-free.

The client and worker here are the production ones (`onboarding.temporal.client.connect`, whose
plugin the workers inherit), on the session's dev server but on a task queue of their own;
an in-memory exporter collects the spans.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
import pytest_asyncio
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.selfies.local_store import SelfieStore
from devstack.demo import SAMPLE_SELFIE
from onboarding.runtime.settings import Settings
from onboarding.runtime.telemetry import tracer_provider
from onboarding.temporal.client import connect
from onboarding.temporal.connection import TemporalTarget
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.onboardings import start_onboarding
from tests.integration.workers import serving_workers
from tests.support import API_KEY, Sandbox

SUBJECT = {
    "code": "00000000272",
    "name": "Maria Pereira da Silva",
    "email": "maria.pereira@example.com",
    "phone": "+5511987654321",
}
PERSONAL = [*SUBJECT.values(), API_KEY, "Bearer"]


@pytest.fixture(scope="module")
def exporter(settings: Settings) -> InMemorySpanExporter:
    provider = tracer_provider(settings)
    assert provider is not None, "the replay-safe provider is installed"
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory


@pytest_asyncio.fixture(scope="module")
async def traced(
    env: WorkflowEnvironment,
    environment: dict[str, str],
    settings: Settings,
    exporter: InMemorySpanExporter,
) -> AsyncIterator[tuple[Client, Settings]]:
    target = TemporalTarget(address=env.client.service_client.config.target_host)
    client = await connect(settings, target=target)
    queue = f"traced-{uuid.uuid4().hex[:8]}"
    async with serving_workers(client, environment, task_queue=queue) as traced_workers:
        yield client, traced_workers.settings


async def onboard(
    traced: tuple[Client, Settings], selfies: SelfieStore, cpf: str, **options: Any
) -> tuple[str, OnboardingResult]:
    client, settings = traced
    request = OnboardingRequest.model_validate(
        {
            "request_id": uuid.uuid4().hex,
            "subject": {**SUBJECT, "code": cpf},
            "selfie_ref": selfies.put(SAMPLE_SELFIE.read_bytes()),
            "options": {"poll_initial_seconds": 1, "poll_max_seconds": 1, **options},
        }
    )
    handle = await start_onboarding(client, request, settings.task_queue)
    return handle.id, await handle.result()


async def trace_of(exporter: InMemorySpanExporter, workflow_id: str) -> list[ReadableSpan]:
    """Every span in the trace whose root started `workflow_id`, once its decision is in."""
    for _ in range(50):
        spans = exporter.get_finished_spans()
        roots = [
            s for s in spans if s.name == "StartWorkflow:Onboarding" and _wid(s) == workflow_id
        ]
        if roots:
            trace_id = _ctx(roots[0]).trace_id
            in_trace = [s for s in spans if _ctx(s).trace_id == trace_id]
            if any(s.name == "onboarding.decision" for s in in_trace):
                return in_trace
        await asyncio.sleep(0.1)
    raise AssertionError(f"no complete trace for {workflow_id}")


def _ctx(span: ReadableSpan) -> Any:
    assert span.context is not None
    return span.context


def _wid(span: ReadableSpan) -> object:
    return (span.attributes or {}).get("temporalWorkflowID")


def named(spans: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    found = named(spans, name)
    assert len(found) == 1, f"{name}: {[s.name for s in spans]}"
    return found[0]


def parent_of(span: ReadableSpan, spans: Sequence[ReadableSpan]) -> ReadableSpan | None:
    if span.parent is None:
        return None
    return next(s for s in spans if _ctx(s).span_id == span.parent.span_id)


def assert_no_personal_data(spans: Sequence[ReadableSpan]) -> None:
    for span in spans:
        values = [str(v) for v in (span.attributes or {}).values()]
        for event in span.events:
            values += [str(v) for v in (event.attributes or {}).values()]
        values.append(span.status.description or "")
        leaked = [item for item in PERSONAL for value in values if item in value]
        assert not leaked, f"{span.name} carries {leaked}"


async def test_one_onboarding_is_one_trace_from_start_to_decision(
    traced: tuple[Client, Settings], selfies: SelfieStore, exporter: InMemorySpanExporter
) -> None:
    workflow_id, result = await onboard(traced, selfies, "00000000272")
    spans = await trace_of(exporter, workflow_id)

    root = one(spans, "StartWorkflow:Onboarding")
    assert root.parent is None, "the caller's start is the root"
    run = one(spans, "RunWorkflow:Onboarding")
    assert parent_of(run, spans) is root
    # The token comes from the worker's cache inside the create (no call of its own once warm).
    for activity, call in (
        ("open_process", "POST /processes/v1"),
        ("read_process", "GET /processes/v1/{processId}"),
    ):
        started = named(spans, f"StartActivity:{activity}")[0]
        ran = next(s for s in named(spans, f"RunActivity:{activity}") if s.parent)
        http = next(s for s in named(spans, call) if parent_of(s, spans) is ran)
        assert parent_of(started, spans) is run
        assert parent_of(ran, spans) is started
        assert (http.attributes or {})["http.response.status_code"] == 200
    create = one(spans, "POST /processes/v1")
    assert dict(create.attributes or {}) == {
        "http.request.method": "POST",
        "url.template": "/processes/v1",
        "unico.system": "unico-process",
        "http.response.status_code": 200,
        "unico.process_id": result.process_id,
        "unico.status": 1,
    }
    decision = one(spans, "onboarding.decision")
    assert parent_of(decision, spans) is run
    assert (decision.attributes or {})["onboarding.outcome"] == Outcome.APPROVED.value
    assert (decision.attributes or {})["onboarding.reasons"] == ("score.approve",)
    assert_no_personal_data(spans)


async def test_a_refused_call_carries_its_status_and_class(
    traced: tuple[Client, Settings], selfies: SelfieStore, exporter: InMemorySpanExporter
) -> None:
    workflow_id, result = await onboard(traced, selfies, "00000000868", max_process_attempts=1)
    assert result.outcome == Outcome.ERROR
    spans = await trace_of(exporter, workflow_id)
    gone = one(spans, "GET /processes/v1/{processId}")
    attributes = gone.attributes or {}
    assert (attributes["http.response.status_code"], attributes["error.type"]) == (410, "gone")
    assert gone.status.status_code is StatusCode.ERROR
    assert (one(spans, "onboarding.decision").attributes or {})["onboarding.outcome"] == "error"
    assert_no_personal_data(spans)


async def test_a_trace_crosses_continue_as_new(
    traced: tuple[Client, Settings],
    selfies: SelfieStore,
    sandbox: Sandbox,
    exporter: InMemorySpanExporter,
) -> None:
    sandbox.configure(async_delay_seconds=6)
    try:
        workflow_id, result = await onboard(traced, selfies, "00000000353")
    finally:
        sandbox.configure(async_delay_seconds=1.0)
    assert result.outcome == Outcome.REVIEW
    spans = await trace_of(exporter, workflow_id)
    runs = named(spans, "RunWorkflow:Onboarding")
    assert len({(s.attributes or {})["temporalRunID"] for s in runs}) >= 2
    first = next(s for s in runs if parent_of(s, spans) is one(spans, "StartWorkflow:Onboarding"))
    assert all(s is first or parent_of(s, spans) in runs for s in runs), "runs chain up"
    assert_no_personal_data(spans)

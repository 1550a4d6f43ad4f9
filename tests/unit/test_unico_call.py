"""A Unico call's span and metric labels come from the classifier's error, without PII."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from temporalio.exceptions import ApplicationError

from activities import error_system
from activities.errors import raise_for_answer, raise_for_transport
from activities.telemetry import RemoteCall

REQUEST = httpx.Request("POST", "http://unico.test/processes/v1")
CPF = "123.456.789-09"


def failed_call(system: str, error: ApplicationError) -> tuple[RemoteCall, ReadableSpan]:
    """A local provider: the process-wide one belongs to the tracing tests."""
    provider, exporter = TracerProvider(), InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer(__name__).start_as_current_span("call") as span:
        call = RemoteCall(span, system)
        call.failed(error)
    [finished] = exporter.get_finished_spans()
    assert finished.status.status_code is StatusCode.ERROR
    return call, finished


def unico_error(system: str, status: int, body: object) -> ApplicationError:
    with pytest.raises(ApplicationError) as caught:
        raise_for_answer(error_system(system), httpx.Response(status, json=body, request=REQUEST))
    return caught.value


def test_a_refused_process_call_carries_the_class_code_status_and_rule() -> None:
    body = {"error": {"code": 10201, "description": f"API key refused for {CPF}"}}
    call, span = failed_call("unico-process", unico_error("unico-process", 403, body))
    assert (call.error_class, call.http_status) == ("configuration", 403)
    attributes = dict(span.attributes or {})
    assert attributes["error.type"] == "configuration"
    assert (attributes["unico.code"], attributes["unico.error_rule"]) == ("10201", "code")
    assert CPF not in f"{attributes} {span.status.description}", "Unico's words stay out"


def test_a_token_failure_inside_a_process_call_gives_its_class_not_its_status() -> None:
    body = {"error": "invalid_grant", "error_description": "Falha na autenticação 1.2.18"}
    call, span = failed_call("unico-process", unico_error("unico-auth", 401, body))
    assert (call.error_class, call.http_status) == ("locked", None)
    assert "unico.code" not in (span.attributes or {}), "the process API was never called"


def test_no_answer_to_a_create_is_an_ambiguous_create() -> None:
    with pytest.raises(ApplicationError) as caught:
        raise_for_transport("unico-process", httpx.ReadTimeout("x", request=REQUEST), False)
    call, _ = failed_call("unico-process", caught.value)
    assert (call.error_class, call.http_status) == ("ambiguous_create", None)

"""A span and a metric for every HTTP call to a remote system: what was called and how it
ended. Each system names its metric and attribute prefix (`CallTelemetry`, in its package).

Span attributes are the method, the route template, the HTTP status, the system's code, the
error class (activities/errors.py's classifier: the catalogs) and the rule that gave it, and
what the system adds (Unico: its opaque process id, already a search attribute).
Never a body, a header, a CPF, a name, an e-mail, an image or a token. Metrics go through the
SDK's meter, so they appear on the worker's Prometheus endpoint beside Temporal's own,
labelled with the activity type and task queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from temporalio import activity
from temporalio.common import MetricMeter
from temporalio.exceptions import ApplicationError

from activities.errors import carried_details
from onboarding_client.contract.errors import ErrorClass

SUCCESS = "ok"

_tracer = trace.get_tracer(__name__)


class RemoteCall:
    """What the caller learns about one call while it runs; read when the call ends.

    `prefix` names the span attributes of the system's own facts (`unico.code`,
    `identity_cloud.code`)."""

    def __init__(self, span: Span, system: str, prefix: str = "unico") -> None:
        self.span, self.system, self.prefix = span, system, prefix
        self.http_status: int | None = None
        self.error_class = SUCCESS

    def answered(self, http_status: int) -> None:
        self.http_status = http_status
        self.span.set_attribute("http.response.status_code", http_status)

    def failed(self, error: BaseException) -> None:
        """The call's error class, as activities/errors.py classified it, and Unico's code.

        An error from another system (the token endpoint, failing before a process-API
        call could go out) gives this call its class but no HTTP status or code.
        """
        if not isinstance(error, ApplicationError):
            self.error_class = type(error).__name__  # a bug or a cancellation, not Unico
            return
        # The class is the error's type (ErrorClass, or ambiguous_create for a create whose
        # answer never came); the details say which code, status and catalog rule.
        self.error_class = error.type or ErrorClass.TRANSIENT.value
        self.span.set_attribute("error.type", self.error_class)
        carried = carried_details(error)
        code = None
        if carried is not None and carried[0].system == self.system:
            details, rule = carried
            code = details.code
            if details.http_status is not None:
                self.answered(details.http_status)
            if code:
                self.span.set_attribute(f"{self.prefix}.code", code)
            if rule:
                self.span.set_attribute(f"{self.prefix}.error_rule", rule)
        # The class and code only: a message is the remote's words, and stays out of telemetry.
        self.span.set_status(Status(StatusCode.ERROR, f"{self.error_class} {code or ''}".strip()))


@dataclass(frozen=True)
class CallTelemetry:
    """How a remote system's calls are counted (`metric`) and traced (`prefix` names the span
    attributes of the system's own facts: `unico.code`, `identity_cloud.code`)."""

    metric: str
    description: str
    prefix: str


@contextmanager
def remote_call(
    telemetry: CallTelemetry,
    system: str,
    method: str,
    route: str,
    *,
    also_count: str | None = None,
) -> Iterator[RemoteCall]:
    """Trace and count one call; `route` is the template (`/processes/v1/{processId}`), never
    a path with an id in it. `also_count` names a second counter for the same call (token
    refreshes), labelled by how the call ended."""
    prefix = telemetry.prefix
    attributes = {"http.request.method": method, "url.template": route, f"{prefix}.system": system}
    with _tracer.start_as_current_span(
        f"{method} {route}",
        kind=SpanKind.CLIENT,
        attributes=attributes,
        record_exception=False,  # an exception's text is not ours to export
        set_status_on_exception=False,
    ) as span:
        call = RemoteCall(span, system, prefix)
        try:
            yield call
        except BaseException as error:
            call.failed(error)
            raise
        finally:
            status = str(call.http_status) if call.http_status is not None else "none"
            _meter().create_counter(telemetry.metric, telemetry.description).add(
                1, {"endpoint": route, "http_status": status, "class": call.error_class}
            )
            if also_count:
                _meter().create_counter(also_count).add(1, {"result": call.error_class})


def _meter() -> MetricMeter:
    return activity.metric_meter() if activity.in_activity() else MetricMeter.noop

"""A span and a metric for every HTTP call to a remote system (Unico, Identity Cloud, Auth0
and Guardian): what
was called and how it ended.

Span attributes are the method, the route template, the HTTP status, the system's code, the
error class (activities/errors.py's classifier: the catalogs) and the rule that gave it, and
Unico's process id (its opaque id, not personal data, already a search attribute).
Never a body, a header, a CPF, a name, an e-mail, an image or a token. Metrics go through the
SDK's meter, so they appear on the worker's Prometheus endpoint beside Temporal's own,
labelled with the activity type and task queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from temporalio import activity
from temporalio.common import MetricMeter
from temporalio.exceptions import ApplicationError

from activities.errors import carried_details
from workflows.error_classes import ErrorClass
from workflows.models import UnicoProcess

UNICO_REQUESTS_METRIC = "unico_requests"
IDENTITY_CLOUD_REQUESTS_METRIC = "identity_cloud_requests"
GUARDIAN_REQUESTS_METRIC = "guardian_requests"
TOKEN_REFRESHES_METRIC = "unico_token_refreshes"
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

    def returned(self, process: UnicoProcess) -> UnicoProcess:
        """The process API answered 200 with this process."""
        self.answered(200)
        self.span.set_attribute("unico.process_id", process.id)
        self.span.set_attribute("unico.status", process.status)
        return process

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


@contextmanager
def unico_call(
    system: str, method: str, route: str, *, also_count: str | None = None
) -> Iterator[RemoteCall]:
    """Trace and count one call to Unico; `route` is the template (`/processes/v1/{processId}`).

    `also_count` names a second counter for the same call (token refreshes), labelled by
    how the call ended.
    """
    attributes = {"unico.system": system}
    metric = (UNICO_REQUESTS_METRIC, "HTTP calls to Unico")
    with _remote_call(system, method, route, "unico", attributes, metric, also_count) as call:
        yield call


@contextmanager
def identity_cloud_call(system: str, operation: str) -> Iterator[RemoteCall]:
    """Trace and count one call to Identity Cloud's entity API (`entity.create`, ...)."""
    route = f"/{operation}"
    metric = (IDENTITY_CLOUD_REQUESTS_METRIC, "HTTP calls to Identity Cloud")
    with _remote_call(system, "POST", route, "identity_cloud", {}, metric) as call:
        yield call


@contextmanager
def guardian_call(system: str, route: str) -> Iterator[RemoteCall]:
    """Trace and count one call to Auth0 or Guardian (`/api/verify-otp`, ...)."""
    metric = (GUARDIAN_REQUESTS_METRIC, "HTTP calls to Auth0 and Guardian")
    with _remote_call(system, "POST", route, "mfa", {}, metric) as call:
        yield call


@contextmanager
def _remote_call(
    system: str,
    method: str,
    route: str,
    prefix: str,
    extra: dict[str, str],
    metric: tuple[str, str],
    also_count: str | None = None,
) -> Iterator[RemoteCall]:
    attributes = {"http.request.method": method, "url.template": route, **extra}
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
            _meter().create_counter(*metric).add(
                1, {"endpoint": route, "http_status": status, "class": call.error_class}
            )
            if also_count:
                _meter().create_counter(also_count).add(1, {"result": call.error_class})


def _meter() -> MetricMeter:
    return activity.metric_meter() if activity.in_activity() else MetricMeter.noop

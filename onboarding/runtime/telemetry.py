"""Tracing and metrics set-up: one place, read from Settings, for every process of ours.

Tracing: temporalio's OpenTelemetry plugin goes on every client that `onboarding.temporal.client`
connects (a worker inherits its client's plugins), so that one onboarding reads as one
trace: the caller's StartWorkflow span, each workflow run (continue-as-new carries the
context), each activity, each HTTP call to Unico and the decision. Spans leave over
OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set, and go nowhere otherwise; the context
still travels in Temporal's headers either way.

Metrics: the Temporal runtime's Prometheus endpoint (METRICS_BIND_ADDRESS) serves the SDK's
metrics and ours, which the activities and the workflow record through the SDK's meter.

Logs: every runtime of ours forwards the SDK core's lines (written in Rust, as text) to
Python's logging, so that they leave as our JSON lines too.
"""

from __future__ import annotations

import contextlib
import logging

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from temporalio.contrib.opentelemetry import (
    OpenTelemetryPlugin,
    ReplaySafeTracerProvider,
    create_tracer_provider,
)
from temporalio.plugin import SimplePlugin
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from onboarding.runtime.errors import SettingsError
from onboarding.runtime.settings import Settings
from onboarding_client.contract.names import DECISION_LATENCY_METRIC

logger = logging.getLogger(__name__)

# Milliseconds, as the SDK reports durations: a decision takes seconds (status 3 at once)
# to hours (a long Unico analysis), far beyond the SDK's default buckets.
DECISION_LATENCY_BUCKETS_MS = (
    1_000, 5_000, 15_000, 60_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000,
)  # fmt: skip


def tracer_provider(settings: Settings) -> ReplaySafeTracerProvider | None:
    """The process's replay-safe tracer provider, installed on first use.

    None when another provider was installed first: the plugin needs a replay-safe one
    inside workflows, so tracing then stays off rather than breaking the worker.
    """
    current = trace.get_tracer_provider()
    if isinstance(current, ReplaySafeTracerProvider):
        return current
    provider = create_tracer_provider(
        resource=Resource.create({SERVICE_NAME: settings.otel_service_name})
    )
    if settings.otel_exporter_otlp_endpoint:
        endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    installed = trace.get_tracer_provider()
    if isinstance(installed, ReplaySafeTracerProvider):
        return installed
    logger.warning("tracing is off: a tracer provider that is not replay-safe came first")
    return None


def tracing_plugins(settings: Settings) -> list[SimplePlugin]:
    """The client plugins that trace every Temporal call, workflow and activity."""
    if tracer_provider(settings) is None:
        return []
    return [OpenTelemetryPlugin(add_temporal_spans=True)]


def flush_traces(timeout_seconds: float = 5.0) -> None:
    """Send the spans still batched: our processes leave with os._exit, skipping atexit."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, ReplaySafeTracerProvider):
        provider.force_flush(int(timeout_seconds * 1000))


def core_logging() -> LoggingConfig:
    """The SDK core's log lines, at the SDK's default levels, through Python's logging."""
    return LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
    )


def forward_core_logs() -> None:
    """The default runtime forwards the core's lines: call it before any client is made. A
    default runtime made already (a test's) is left as it is."""
    with contextlib.suppress(RuntimeError):
        Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=core_logging())))


def metrics_runtime(settings: Settings) -> Runtime | None:
    """A Temporal runtime serving Prometheus metrics, or None (the default runtime)."""
    if not settings.metrics_bind_address:
        return None
    prometheus = PrometheusConfig(
        bind_address=settings.metrics_bind_address,
        histogram_bucket_overrides={DECISION_LATENCY_METRIC: DECISION_LATENCY_BUCKETS_MS},
    )
    try:
        return Runtime(telemetry=TelemetryConfig(logging=core_logging(), metrics=prometheus))
    except ValueError as exc:  # the SDK's word for "cannot bind"
        raise SettingsError(f"METRICS_BIND_ADDRESS: {exc}") from None

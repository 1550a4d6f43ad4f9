"""What the workflow reports about each decision: two metrics and one span, none with PII.

Both are replay-safe: `workflow.metric_meter()` records nothing while a history replays,
and the tracing plugin's replay-safe provider exports no span that ends during a replay
(a query on a closed onboarding replays it to the end). Neither adds a workflow command.
"""

from __future__ import annotations

from datetime import timedelta

from opentelemetry import trace
from opentelemetry.util.types import AttributeValue
from temporalio import workflow

from onboarding_client.contract.names import DECISION_LATENCY_METRIC, DECISIONS_METRIC
from onboarding_client.contract.result import OnboardingResult

DECISION_SPAN = "onboarding.decision"


def record_decision(result: OnboardingResult, started_at: float) -> None:
    """Count the outcome, time it from the onboarding's start, and mark it in the trace."""
    outcome = result.outcome.value
    meter = workflow.metric_meter()
    meter.create_counter(DECISIONS_METRIC, "Onboardings decided, by outcome").add(
        1, {"outcome": outcome}
    )
    latency = timedelta(seconds=max(0.0, workflow.now().timestamp() - started_at))
    meter.create_histogram_timedelta(
        DECISION_LATENCY_METRIC, "From an onboarding's start to its decision", "duration"
    ).record(latency, {"outcome": outcome})
    attributes: dict[str, AttributeValue] = {
        "onboarding.outcome": outcome,
        "onboarding.reasons": [reason.code for reason in result.reasons],
        "onboarding.attempts": result.attempts,
    }
    if result.unico_status is not None:
        attributes["unico.status"] = result.unico_status
    with trace.get_tracer(__name__).start_as_current_span(DECISION_SPAN, attributes=attributes):
        pass

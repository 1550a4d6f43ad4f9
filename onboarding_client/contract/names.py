"""The names that callers, operators, the workflow and its activities share: one place each.

Workflow types, the task queue, the deployment, ids; signals, queries and updates; search
attributes. Activity names and their queues are declared with each activity's contract.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

WORKFLOW_TYPE = "Onboarding"
RETENTION_WORKFLOW_TYPE = "SelfieRetention"
# A retention timer's workflow id: this prefix, then its onboarding's.
RETENTION_ID_PREFIX = "selfie-retention-"
TASK_QUEUE = "onboarding"
# Worker Deployment Versioning: every worker of a build declares this deployment and the
# build's id; an `Onboarding` run stays pinned to the build that started it.
DEPLOYMENT_NAME = "onboarding"

STATUS_QUERY = "status"
WEBHOOK_SIGNAL = "unico_webhook"
# Ends the wait of onboardings blocked on an operator (configuration, locked) at once.
RETRY_NOW_SIGNAL = "retry_now"
# Updates: the identity decision as soon as it exists (meant for update-with-start), and a
# reviewer's answer.
DECISION_UPDATE = "decision"
REVIEW_UPDATE = "review"
CLAIM_UPDATE = "claim_review"  # a reviewer holds a waiting review, or lets it go
# The MFA conversation: the person's code, and a new SMS.
SUBMIT_OTP_UPDATE = "submit_otp"
RESEND_OTP_UPDATE = "resend_otp"

# Search attributes (keywords; no personal data ever goes in one).
STAGE_ATTRIBUTE = SearchAttributeKey.for_keyword("OnboardingStage")
OUTCOME_ATTRIBUTE = SearchAttributeKey.for_keyword("OnboardingOutcome")
PROCESS_ATTRIBUTE = SearchAttributeKey.for_keyword("UnicoProcessId")
# When a waiting review is due: what operators search for a reminder of the reviews due soon.
REVIEW_DEADLINE_ATTRIBUTE = SearchAttributeKey.for_datetime("ReviewDeadline")
SEARCH_ATTRIBUTES = (
    STAGE_ATTRIBUTE,
    OUTCOME_ATTRIBUTE,
    PROCESS_ATTRIBUTE,
    REVIEW_DEADLINE_ATTRIBUTE,
)
WORKFLOW_ID_PREFIX = "onboarding-"
# The workflow's own metrics (replay-safe, through the SDK's meter), for dashboards.
DECISIONS_METRIC = "onboarding_decisions"
DECISION_LATENCY_METRIC = "onboarding_decision_latency"


def search_attribute_type(attribute: SearchAttributeKey[Any]) -> str:
    """The type as the `temporal` CLI names it: `Keyword`, `Datetime`, ..."""
    return attribute.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_").title()


def workflow_id_for(request_id: str) -> str:
    """Deterministic id: a repeated start with the same request joins the running one."""
    return f"{WORKFLOW_ID_PREFIX}{request_id}"


def queue_for(system: str, workflow_queue: str) -> str:
    """A remote system's task queue, derived from the workflow's own queue.

    Derived, not configured: the workflow reads its queue from its history (deterministic),
    every worker finds the others without a setting, and two fleets on two workflow queues
    (or two test runs on one server) never take each other's calls. The server rate-limits
    each such queue for the whole fleet (the system's budget of requests).
    """
    return f"{workflow_queue}-{system}"

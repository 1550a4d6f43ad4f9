"""The names that callers, operators, the workflow and its activities share: one place each.

Workflow types, task queues and ids; signals, queries and updates; activity names; search
attributes. Pure constants, safe in the workflow sandbox.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

WORKFLOW_TYPE = "Onboarding"
RETENTION_WORKFLOW_TYPE = "SelfieRetention"
TASK_QUEUE = "onboarding"

STATUS_QUERY = "status"
WEBHOOK_SIGNAL = "unico_webhook"
# Ends the wait of onboardings blocked on an operator (configuration, locked) at once.
RETRY_NOW_SIGNAL = "retry_now"
# Updates: the identity decision as soon as it exists (meant for update-with-start), and a
# reviewer's answer.
DECISION_UPDATE = "decision"
REVIEW_UPDATE = "review"
# The MFA conversation: the person's code, and a new SMS.
SUBMIT_OTP_UPDATE = "submit_otp"
RESEND_OTP_UPDATE = "resend_otp"

# Activities, by the name each is registered under.
INSPECT_SELFIE = "inspect_selfie"
ACQUIRE_TOKEN = "acquire_token"
CREATE_PROCESS = "create_process"
# The selfie's check, the token and the create in one activity: nothing leaves for Unico
# before the image passed (onboardings that take the `lean-commands` path).
OPEN_PROCESS = "open_process"
GET_PROCESS = "get_process"
# The read, and the selfie's release when the answer settles the process (onboardings that
# take the `selfie-with-last-call` path; `open_process` does the same for a create).
READ_PROCESS = "read_process"
RELEASE_SELFIE = "release_selfie"
DELETE_SELFIE = "delete_selfie"
# A local activity: the deployment's answer where a request leaves an option open.
REVIEW_BY_DEFAULT = "review_by_default"
# The account step: create (or adopt) the approved person's record in Identity Cloud.
REGISTER_ACCOUNT = "register_account"
# The MFA step: start a Guardian enrollment (ticket, flow, first SMS), send another SMS,
# check the person's code.
START_MFA_ENROLLMENT = "start_mfa_enrollment"
SEND_OTP_SMS = "send_otp_sms"
VERIFY_OTP = "verify_otp"
# The activities that call Unico's process API. They run on a task queue of their own, so
# that the server's `max_task_queue_activities_per_second` caps the whole fleet's calls.
UNICO_API_ACTIVITIES = frozenset({CREATE_PROCESS, OPEN_PROCESS, GET_PROCESS, READ_PROCESS})
# Likewise Identity Cloud's, under its own budget.
IDENTITY_CLOUD_ACTIVITIES = frozenset({REGISTER_ACCOUNT})
# And Auth0's and Guardian's.
GUARDIAN_ACTIVITIES = frozenset({START_MFA_ENROLLMENT, SEND_OTP_SMS, VERIFY_OTP})

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


def search_attribute_type(attribute: SearchAttributeKey[Any]) -> str:
    """The type as the `temporal` CLI names it: `Keyword`, `Datetime`, ..."""
    return attribute.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_").title()


def workflow_id_for(request_id: str) -> str:
    """Deterministic id: a repeated start with the same request joins the running one."""
    return f"onboarding-{request_id}"


def unico_task_queue_for(task_queue: str) -> str:
    """The Unico activities' queue, derived from the workflow's own queue.

    Derived, not configured: the workflow reads it from its history (deterministic), every
    worker finds it without a second setting, and two fleets on two workflow queues (or two
    test runs on one server) never take each other's Unico calls.
    """
    return f"{task_queue}-unico"


def identity_cloud_task_queue_for(task_queue: str) -> str:
    """The Identity Cloud activities' queue, derived as the Unico one is."""
    return f"{task_queue}-identity-cloud"


def guardian_task_queue_for(task_queue: str) -> str:
    """The Auth0 and Guardian activities' queue, derived as the Unico one is."""
    return f"{task_queue}-guardian"


def activity_task_queue(activity: str, workflow_queue: str) -> str | None:
    """The queue an activity runs on; None: the workflow's own."""
    if activity in UNICO_API_ACTIVITIES:
        return unico_task_queue_for(workflow_queue)
    if activity in IDENTITY_CLOUD_ACTIVITIES:
        return identity_cloud_task_queue_for(workflow_queue)
    if activity in GUARDIAN_ACTIVITIES:
        return guardian_task_queue_for(workflow_queue)
    return None

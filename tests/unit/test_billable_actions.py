"""Temporal Cloud's billing rules, as `devstack/actions.py` scores a history."""

from __future__ import annotations

from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from devstack.actions import billable_actions


def upsert(*keys: str) -> HistoryEvent:
    built = HistoryEvent(event_type=EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
    fields = built.upsert_workflow_search_attributes_event_attributes.search_attributes
    for key in keys:
        fields.indexed_fields[key].CopyFrom(Payload(data=b'"x"'))
    return built


def started(attempt: int) -> HistoryEvent:
    built = HistoryEvent(event_type=EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
    built.activity_task_started_event_attributes.attempt = attempt
    return built


def local_activity(task: int) -> HistoryEvent:
    built = HistoryEvent(event_type=EventType.EVENT_TYPE_MARKER_RECORDED)
    built.marker_recorded_event_attributes.marker_name = "core_local_activity"
    built.marker_recorded_event_attributes.workflow_task_completed_event_id = task
    return built


def test_each_kind_is_counted_by_cloud_s_rules() -> None:
    history = [
        HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
        upsert("OnboardingStage", "UnicoProcessId"),  # several keys in one: once
        upsert("TemporalChangeVersion"),  # the patches' own: free
        started(1),
        started(3),  # two retries: three attempts
        HistoryEvent(event_type=EventType.EVENT_TYPE_TIMER_STARTED),
        HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
        HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
        local_activity(9),
        local_activity(9),  # one workflow task's local activities: one action
        local_activity(14),
        HistoryEvent(event_type=EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED),
        HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW),
    ]
    assert billable_actions(history) == {
        "starts": 1 + 2 + 1,
        "upserts": 1,
        "activities": 4,
        "timers": 1,
        "signals": 1,
        "updates": 1,
        "local activities": 2,
    }


def test_a_run_continued_as_new_does_not_count_its_start_twice() -> None:
    first = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
    continued = HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
    continued.workflow_execution_started_event_attributes.continued_execution_run_id = "r1"
    assert billable_actions([first])["starts"] == 1
    assert billable_actions([continued])["starts"] == 0

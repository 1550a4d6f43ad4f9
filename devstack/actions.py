"""What a workflow's history costs on Temporal Cloud, counted by its published rules.

One action each: a workflow start (a continue-as-new too; a child's start counts two), each
activity attempt, each timer, each search-attribute upsert (several keys in one count once;
keys given at start and an upsert of only `TemporalChangeVersion` are free), each signal,
each update, each query (not in history: the caller counts its own). All the local
activities of one workflow task count as one. Memo upserts and patch markers are free.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from temporalio.api.history.v1 import HistoryEvent

from devstack.history import kind

CHANGE_VERSION = "TemporalChangeVersion"
LOCAL_ACTIVITY_MARKER = "core_local_activity"
KINDS = ("starts", "activities", "local activities", "timers", "upserts", "signals", "updates")


def billable_actions(events: Iterable[HistoryEvent]) -> Counter[str]:
    """The actions of one run's history, by kind (KINDS)."""
    found: Counter[str] = Counter()
    local_tasks: set[int] = set()
    for event in events:
        name = kind(event)
        if name == "WORKFLOW_EXECUTION_STARTED":
            # A run started by continue-as-new was counted as the previous run's last action.
            started = event.workflow_execution_started_event_attributes
            if not started.continued_execution_run_id:
                found["starts"] += 1
        elif name == "WORKFLOW_EXECUTION_CONTINUED_AS_NEW":
            found["starts"] += 1
        elif name == "START_CHILD_WORKFLOW_EXECUTION_INITIATED":
            found["starts"] += 2
        elif name == "ACTIVITY_TASK_STARTED":
            found["activities"] += max(event.activity_task_started_event_attributes.attempt, 1)
        elif name == "TIMER_STARTED":
            found["timers"] += 1
        elif name == "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES":
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
            if set(fields.indexed_fields) - {CHANGE_VERSION}:
                found["upserts"] += 1
        elif name == "WORKFLOW_EXECUTION_SIGNALED":
            found["signals"] += 1
        elif name == "WORKFLOW_EXECUTION_UPDATE_ACCEPTED":
            found["updates"] += 1
        elif name == "MARKER_RECORDED":
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == LOCAL_ACTIVITY_MARKER:
                local_tasks.add(marker.workflow_task_completed_event_id)
    found["local activities"] = len(local_tasks)
    return found

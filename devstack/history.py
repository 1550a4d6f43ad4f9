"""Reading a workflow's history: its events by kind, its activities, its stages, its patches.

For the tests, the benchmarks and the replay recorder, which ask the same questions of a
history: what was scheduled, what the operator could search for, which patches a run recorded.
Search attributes and markers are read as stored (neither is encrypted).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle

from onboarding_client.contract.names import STAGE_ATTRIBUTE


async def events_of(handle: WorkflowHandle[Any, Any]) -> list[HistoryEvent]:
    """The events of the handle's run, as the server has them now."""
    return [event async for event in handle.fetch_history_events()]


def kind(event: HistoryEvent) -> str:
    """`TIMER_STARTED`, `ACTIVITY_TASK_SCHEDULED`, ...: the event type without its prefix."""
    return EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")


def counts(events: Iterable[HistoryEvent]) -> Counter[str]:
    return Counter(kind(event) for event in events)


def of_kind(events: Iterable[HistoryEvent], name: str) -> list[HistoryEvent]:
    return [event for event in events if kind(event) == name]


def activity_names(events: Iterable[HistoryEvent]) -> dict[int, str]:
    """Each scheduled activity's event id and the activity's name."""
    return {
        event.event_id: event.activity_task_scheduled_event_attributes.activity_type.name
        for event in of_kind(events, "ACTIVITY_TASK_SCHEDULED")
    }


def scheduled_activities(events: Iterable[HistoryEvent]) -> list[str]:
    """The names of the activities the workflow scheduled, in order."""
    return list(activity_names(events).values())


def stage_upserts(events: Iterable[HistoryEvent]) -> list[str]:
    """Every `OnboardingStage` value the workflow upserted, in order."""
    stages = []
    for event in of_kind(events, "UPSERT_WORKFLOW_SEARCH_ATTRIBUTES"):
        fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
        payload = fields.indexed_fields.get(STAGE_ATTRIBUTE.name)
        if payload is not None:
            stages.append(str(json.loads(payload.data)))
    return stages


def patch_markers(events: Iterable[HistoryEvent]) -> list[str]:
    """The ids of the patch markers the run recorded, in order."""
    ids = []
    for event in of_kind(events, "MARKER_RECORDED"):
        attributes = event.marker_recorded_event_attributes
        if attributes.marker_name == "core_patch":
            for payload in attributes.details["patch-data"].payloads:
                ids.append(json.loads(payload.data)["id"])
    return ids

"""Reading a workflow's history in tests: which events happened, and how often."""

from __future__ import annotations

from collections import Counter
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle


async def event_counts(handle: WorkflowHandle[Any, Any]) -> Counter[str]:
    """Event type names (`TIMER_FIRED`, ...) of the handle's run, counted."""
    counts: Counter[str] = Counter()
    async for event in handle.fetch_history_events():
        counts[EventType.Name(event.event_type).removeprefix("EVENT_TYPE_")] += 1
    return counts

"""Generated requests through the real worker: none fails a workflow task (which Temporal
would retry forever), each ends as `invalid_request` with a documented Unico code.

Hypothesis generates the inputs; they then run together on the dev server. Inputs that
reach the workflow are not shrunk, so a failure names the whole input that caused it.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from hypothesis import strategies as st
from temporalio.client import Client, WorkflowHandle

from devstack.history import of_kind
from onboarding.runtime.settings import Settings
from onboarding_client.contract.names import WORKFLOW_TYPE, workflow_id_for
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.result import OnboardingResult
from tests.requests_strategies import (
    DOCUMENTED_INPUT_CODES,
    OPTION_NAMES,
    any_input,
    generated,
    valid_requests,
    valid_requests_with_a_wild_option,
)

EXAMPLES = 40
# Always tried, beside the generated ones: each timing option at the edges of a number.
EDGES = [
    {
        "request_id": f"edge-{name}-{n}",
        "subject": {"code": "12345678909", "name": "Maria Silva"},
        "selfie_ref": "local:" + "0" * 32,
        "options": {name: value},
    }
    for name in OPTION_NAMES
    for n, value in enumerate((0, -1, 1e15, 1e300, 10**20))
]


def workflow_id_of(raw: Any, used: set[str]) -> str:
    """The id a caller must use (`onboarding-<request_id>`) where the input has a request id
    not used yet, so that a valid request meets the checks behind the id's."""
    request_id = raw.get("request_id") if isinstance(raw, dict) else None
    if isinstance(request_id, str) and request_id and request_id not in used:
        used.add(request_id)
        return workflow_id_for(request_id)
    return f"property-{uuid.uuid4().hex}"


async def test_no_generated_request_fails_a_workflow_task(
    client: Client, settings: Settings
) -> None:
    # Half of them valid but for one timing option: the inputs that reach the timers.
    inputs = EDGES + generated(
        st.one_of(valid_requests_with_a_wild_option(), any_input, valid_requests()), EXAMPLES
    )
    handles: list[tuple[Any, WorkflowHandle[Any, OnboardingResult]]] = []
    used: set[str] = set()
    for raw in inputs:
        handle = await client.start_workflow(
            WORKFLOW_TYPE,
            raw,
            id=workflow_id_of(raw, used),
            task_queue=settings.task_queue,
            result_type=OnboardingResult,
        )
        handles.append((raw, handle))
    waiting = [asyncio.create_task(handle.result()) for _, handle in handles]
    await asyncio.wait(waiting, timeout=60)
    for (raw, handle), result in zip(handles, waiting, strict=True):
        history = await handle.fetch_history()
        failed = of_kind(history.events, "WORKFLOW_TASK_FAILED")
        assert not failed, f"a workflow task failed on {raw!r}"
        assert result.done(), f"no result for {raw!r}"
        outcome = result.result()
        # A valid request names a selfie that was never stored: refused with 20009.
        assert outcome.outcome == Outcome.INVALID_REQUEST, raw
        code = outcome.reasons[0].code
        assert code.startswith("unico.") and int(code[6:]) in DOCUMENTED_INPUT_CODES, raw

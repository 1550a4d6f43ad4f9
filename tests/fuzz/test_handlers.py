"""A fuzz harness of our own: whatever a client sends our handlers, no workflow task fails.

For each signal, query and update, Hypothesis generates argument lists (no argument to
several; JSON of any shape; unicode; integers past 64 bits; floats at the edges; strings
up to 100 KB; the field names our handlers read, with wrong values), and a real client
sends each to a real worker (the workflow's own code, its activities stubbed) running an
onboarding that waits for a person: a reviewer, or the person's SMS code. The workflow's
input gets the same treatment, at any arity. After each batch, no workflow task has failed,
and the onboarding ends as its inputs say: the answer a fuzzed update got through (if any),
else the right one sent last.

`pytest -s tests/fuzz` prints what was sent and what came back, per handler.
"""

from __future__ import annotations

import base64
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import strategies as st
from temporalio.api.enums.v1 import WorkflowTaskFailedCause
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from devstack.history import events_of, of_kind
from devstack.watch import until_stage
from onboarding_client.contract.names import (
    CLAIM_UPDATE,
    DECISION_UPDATE,
    RESEND_OTP_UPDATE,
    RETRY_NOW_SIGNAL,
    REVIEW_UPDATE,
    STATUS_QUERY,
    SUBMIT_OTP_UPDATE,
    WEBHOOK_SIGNAL,
)
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.result import MfaStatus, OnboardingResult
from onboarding_client.contract.status import Stage
from onboarding_client.onboardings import start_onboarding
from tests.requests_strategies import generated, json_values
from tests.reviewers import signed_body
from tests.workflow.conftest import request, start_as_any_client
from tests.workflow.stubs import APPROVED, CREATE_PROCESS, TO_REVIEW, Script, StubbedWorker

Handle = WorkflowHandle[Any, OnboardingResult]
EXAMPLES = 60  # per handler
SENT: Counter[tuple[str, str]] = Counter()  # (handler, what came back): the harness's report
FORCE_CLOSE = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_FORCE_CLOSE_COMMAND

edge_numbers = st.sampled_from(
    [0, -1, 2**31, 2**63, -(2**63) - 1, 2**64, 10**30, 1e308, -1e308, 5e-324, 0.1, 1e300]
)
text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60)
big_text = st.sampled_from(["x" * 20_000, "ç" * 50_000, "\u202e" * 100_000])


def _segment(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# A proof shaped like the console's, naming the key the worker trusts, whose signature is
# anything: it reaches the signature check (which once aborted a worker from the sandbox).
forged_proof = st.tuples(st.binary(max_size=40), st.binary(max_size=64)).map(
    lambda parts: ".".join(
        [
            _segment(b'{"alg":"EdDSA","typ":"JWT","kid":"test-console-1"}'),
            _segment(parts[0]),
            _segment(parts[1]),
        ]
    )
)
# The names our handlers read, so that values reach the checks behind the shape checks.
our_fields = st.dictionaries(
    st.sampled_from(
        ["code", "decision", "reviewer", "note", "proof", "action", "processId", "status"]
    ),
    st.one_of(json_values, edge_numbers, text, big_text, forged_proof),
    max_size=4,
)
argument = st.one_of(json_values, edge_numbers, text, our_fields, big_text.map(lambda s: [s]))
arguments = st.lists(argument, max_size=4)


@pytest.fixture(scope="module")
def report() -> Iterator[Counter[tuple[str, str]]]:
    yield SENT
    print("\nfuzz: what each handler got, and what came back")
    for (handler, answer), count in sorted(SENT.items()):
        print(f"  {handler:<14} {answer:<36} {count}")


async def send(handle: Handle, handler: str, args: list[Any]) -> Any:
    """One call as a client makes it; answers what came back, by kind."""
    try:
        if handler in (WEBHOOK_SIGNAL, RETRY_NOW_SIGNAL):
            await handle.signal(handler, args=args)
            return "signaled"
        if handler == STATUS_QUERY:
            await handle.query(handler, args=args)
            return "answered"
        return await handle.execute_update(handler, args=args)
    except WorkflowUpdateFailedError as refused:
        cause = refused.cause
        return f"refused {getattr(cause, 'type', None) or type(cause).__name__}"
    except RPCError as turned_away:  # over the server's payload limit
        return f"turned away ({turned_away.status.name})"


async def fuzz(handle: Handle, handlers: list[str]) -> list[tuple[str, Any]]:
    """Every handler's examples, sent in turn; the answers that got through."""
    through = []
    for handler in handlers:
        for args in generated(arguments, EXAMPLES):
            answer = await send(handle, handler, args)
            kind = answer if isinstance(answer, str) else "accepted"
            SENT[(handler, kind)] += 1
            if not isinstance(answer, str):
                through.append((handler, answer))
    return through


async def no_task_failed(handle: Handle) -> None:
    """No workflow task failed, but for one the server fails itself: signals buffered while
    a task runs past its limit (2 MB by default) make it fail that task to flush them into
    history (FORCE_CLOSE_COMMAND), and the next task reads them. It stays in the report."""
    failed = of_kind(await events_of(handle), "WORKFLOW_TASK_FAILED")
    causes = [event.workflow_task_failed_event_attributes.cause for event in failed]
    flushes = causes.count(FORCE_CLOSE)
    if flushes:
        SENT[("server", "flushed buffered signals")] += flushes
    others = [WorkflowTaskFailedCause.Name(c) for c in causes if c != FORCE_CLOSE]
    assert not others, f"a workflow task failed: {others}"


async def test_a_waiting_review_survives_anything_sent_to_it(
    env: WorkflowEnvironment, worker: StubbedWorker, report: Counter[tuple[str, str]]
) -> None:
    worker.script = Script({CREATE_PROCESS: [TO_REVIEW]})
    started = request(review={"enabled": True, "deadline_seconds": 3600})
    with env.with_time_skipping_disabled():
        handle = await start_onboarding(env.client, started, worker.queue)
        await until_stage(handle, Stage.AWAITING_REVIEW)
        handlers = [
            WEBHOOK_SIGNAL,
            RETRY_NOW_SIGNAL,
            STATUS_QUERY,
            DECISION_UPDATE,
            REVIEW_UPDATE,
            CLAIM_UPDATE,
        ]
        through = await fuzz(handle, handlers)
        reviewed = [answer for handler, answer in through if handler == REVIEW_UPDATE]
        if not reviewed:
            await handle.execute_update(REVIEW_UPDATE, signed_body(handle.id, "approved"))
        result = await handle.result()
    await no_task_failed(handle)
    expected = Outcome(reviewed[0]["outcome"]) if reviewed else Outcome.APPROVED
    assert result.outcome == expected


async def test_a_waiting_code_survives_anything_sent_to_it(
    env: WorkflowEnvironment, worker: StubbedWorker, report: Counter[tuple[str, str]]
) -> None:
    worker.script = Script({CREATE_PROCESS: [APPROVED]})
    built = request(mfa={"enroll": True, "user_id": "auth0|maria"})
    started = built.model_copy(
        update={"subject": built.subject.model_copy(update={"phone": "+55 11 91234-5678"})}
    )
    with env.with_time_skipping_disabled():
        handle = await start_onboarding(env.client, started, worker.queue)
        await until_stage(handle, Stage.AWAITING_OTP)
        handlers = [WEBHOOK_SIGNAL, STATUS_QUERY, RESEND_OTP_UPDATE, SUBMIT_OTP_UPDATE]
        through = await fuzz(handle, handlers)
        codes = [answer for handler, answer in through if handler == SUBMIT_OTP_UPDATE]
        if not codes:
            await handle.execute_update(SUBMIT_OTP_UPDATE, {"code": "123456"})
        result = await handle.result()
    await no_task_failed(handle)
    assert result.outcome == Outcome.APPROVED
    assert result.mfa is not None and result.mfa.status == MfaStatus.ENROLLED


async def test_any_input_at_any_arity_ends_the_onboarding_cleanly(
    env: WorkflowEnvironment, worker: StubbedWorker, report: Counter[tuple[str, str]]
) -> None:
    worker.script = Script({CREATE_PROCESS: [APPROVED]})
    for args in generated(arguments, EXAMPLES):
        handle = await start_as_any_client(env, worker, args, f"onboarding-fuzz-{uuid.uuid4().hex}")
        result = await handle.result()
        SENT[("workflow input", f"ended {result.outcome.value}")] += 1
        assert result.outcome == Outcome.INVALID_REQUEST, args
        await no_task_failed(handle)
    assert worker.script.called(CREATE_PROCESS) == [], "nothing reached Unico"

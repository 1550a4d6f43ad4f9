"""Every committed history replays against today's workflow code, and a change that would
break onboardings in flight is caught. See docs/changing-the-workflow.md."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

import pytest
from google.protobuf.json_format import ParseDict
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType

from devstack.history import of_kind, stage_upserts
from devstack.scenarios import SCENARIOS
from onboarding_client.codec import ENCODING
from onboarding_client.contract.outcome import Outcome
from tests.replay.corpus import (
    CODEC,
    Recorded,
    load_corpus,
    replay,
    workflow_input,
    workflow_result,
)
from tests.support import API_KEY, AUTH0_SECRET, IDENTITY_CLOUD_SECRET, TEST_KEYS, WEBHOOK_TOKEN
from workflows.onboarding import Onboarding

CORPUS = load_corpus()
# Plaintext batches pass through the codec; encrypted ones open with the fixed test keys.


def test_the_corpus_is_there() -> None:
    assert len(CORPUS) >= len(SCENARIOS), "run `make histories` and commit the batch"
    assert all(r.path.is_file() for r in CORPUS)


def test_encrypted_batches_name_test_keys_only() -> None:
    encrypted = [r for r in CORPUS if r.payload_codec is not None]
    assert encrypted, "record a batch with encryption on (make histories)"
    for recorded in encrypted:
        codec = recorded.payload_codec or {}
        assert codec["codec"] == "aes-256-gcm" and codec["keyring"] == "tests.support.TEST_KEYS"
        assert codec["key_ids"] and all(f"{k}:" in TEST_KEYS for k in codec["key_ids"])
        started = recorded.history().events[0].workflow_execution_started_event_attributes
        assert started.input.payloads[0].metadata["encoding"] == ENCODING, recorded.name
        for event in of_kind(recorded.events, "WORKFLOW_EXECUTION_UPDATE_ACCEPTED"):
            accepted = event.workflow_execution_update_accepted_event_attributes
            answer = accepted.accepted_request.input.args.payloads  # a reviewer's note
            assert all(p.metadata["encoding"] == ENCODING for p in answer), recorded.name


async def test_every_recorded_history_replays_against_todays_code() -> None:
    failures = await replay(Onboarding, CORPUS)
    assert failures == {}, (
        "a workflow change breaks onboardings in flight: see docs/changing-the-workflow.md"
    )


# --- what the corpus holds ----------------------------------------------------------------


def test_the_corpus_covers_every_scenario_and_outcome() -> None:
    finished = [(workflow_input(h), workflow_result(h)) for h in (r.history() for r in CORPUS)]
    outcomes_by_cpf: dict[str, set[str]] = {}
    for request, result in finished:
        if result is not None:
            outcomes_by_cpf.setdefault(request["subject"]["code"], set()).add(result["outcome"])
    for scenario in SCENARIOS:
        assert scenario.expected.value in outcomes_by_cpf.get(scenario.cpf, set()), scenario.cpf
    reached = set().union(*outcomes_by_cpf.values())
    assert reached == {outcome.value for outcome in Outcome}


PATHS = [
    (EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, "a webhook woke an onboarding"),
    (EventType.EVENT_TYPE_TIMER_CANCELED, "a webhook cut a poll timer short"),
    (EventType.EVENT_TYPE_TIMER_FIRED, "polling read Unico"),
    (EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, "a long wait continued as new"),
    (EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED, "an operator canceled"),
    (EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED, "an update was answered"),
]


@pytest.mark.parametrize(("event", "why"), PATHS, ids=[why for _, why in PATHS])
def test_the_corpus_covers_each_path(event: int, why: str) -> None:
    assert any(e.event_type == event for r in CORPUS for e in r.events), why


def _finished() -> list[tuple[Recorded, dict[str, Any]]]:
    results = ((r, workflow_result(r.history())) for r in CORPUS if r.outcome is not None)
    return [(r, result) for r, result in results if result is not None]


def test_the_corpus_covers_every_review_path() -> None:
    """Each way a review ends: each reviewer answer, the deadline either way, a cancel."""
    ends = set()
    for recorded, result in _finished():
        reasons = [reason["code"] for reason in result["reasons"]]
        if "awaiting_review" in stage_upserts(recorded.events):
            ends.add((result["outcome"], reasons[-1]))
    assert ends == {
        ("approved", "review.approved"),
        ("rejected", "review.rejected"),
        ("recapture", "review.recapture"),
        ("review", "review.deadline"),
        ("rejected", "review.deadline"),
        ("canceled", "workflow.canceled"),
    }


def test_the_corpus_holds_early_decisions() -> None:
    """Update-with-start: update `decision` accepted in the first workflow task, before
    anything else the workflow did; once on a decision at once, once across a webhook
    wait, once answered `review` while a reviewer was awaited."""
    early = []
    for recorded in (r for r in CORPUS if r.run == 1):
        events = recorded.events
        scheduled = of_kind(events, "ACTIVITY_TASK_SCHEDULED")
        first_activity = scheduled[0].event_id if scheduled else len(events) + 1
        for event in of_kind(events, "WORKFLOW_EXECUTION_UPDATE_ACCEPTED"):
            if event.event_id < first_activity:
                accepted = event.workflow_execution_update_accepted_event_attributes
                early.append((recorded, accepted.accepted_request.input.name))
    assert {name for _, name in early} == {"decision"}
    assert len(early) >= 3
    reviewed = [r for r, _ in early if "awaiting_review" in stage_upserts(r.events)]
    assert reviewed, "an early decision answered while a review waited"


def decoded_text(recorded: Recorded) -> str:
    """The file as it is, plus every base64 field decoded and every encrypted payload opened:
    payloads hide in base64, and in ciphertext."""
    raw = recorded.path.read_text()
    decoded = []
    for value in _strings(json.loads(raw)):
        try:
            decoded.append(base64.b64decode(value, validate=True).decode("utf-8", "replace"))
        except ValueError:
            continue
    return raw + "\n".join(decoded)


def _strings(node: Any) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        if _is_encrypted(node):
            opened = CODEC.decrypt(ParseDict(node, Payload()))
            yield base64.b64encode(opened.data).decode()
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _is_encrypted(node: dict[str, Any]) -> bool:
    encoding = node.get("metadata", {}).get("encoding") if "data" in node else None
    return encoding == base64.b64encode(ENCODING).decode()


def test_the_histories_hold_no_secret() -> None:
    secrets = [
        API_KEY,
        WEBHOOK_TOKEN,
        IDENTITY_CLOUD_SECRET,
        AUTH0_SECRET,
        "Bearer ",
        "Basic ",
        "PRIVATE KEY",
    ]
    secrets.append('"access_token"')  # the token field; `access_token_invalid` is a code's name
    for recorded in CORPUS:
        text = decoded_text(recorded)
        assert [s for s in secrets if s in text] == [], recorded.path.name

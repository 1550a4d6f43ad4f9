"""What an operator sees in the Web UI: a readable story, searchable stages, no personal data."""

from __future__ import annotations

import json
import uuid

from temporalio.api.common.v1 import Payload
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client

from activities.selfies.local_store import SelfieStore
from devstack.demo import SAMPLE_SELFIE
from devstack.history import events_of, stage_upserts
from onboarding.runtime.settings import Settings
from onboarding_client.codec import ENCODING, EncryptionCodec
from onboarding_client.contract.names import OUTCOME_ATTRIBUTE, PROCESS_ATTRIBUTE, STAGE_ATTRIBUTE
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.onboardings import start_onboarding
from tests.support import fixed_keyring

CPF = "00000000353"
PERSONAL = {
    "cpf": CPF,
    "formatted cpf": "000.000.003-53",
    "name": "Joana Pereira Personal",
    "email": "joana.personal@example.com",
    "phone": "+5511987654321",
}


CODEC = EncryptionCodec(fixed_keyring())


def text_of(payload: Payload) -> str:
    """The text the Web UI shows: summaries decrypted (through the codec server), search
    attributes as they are (in clear, for the server to index)."""
    opened = CODEC.decrypt(payload)
    return str(json.loads(opened.data)) if opened.data else ""


async def test_the_ui_tells_the_story_without_personal_data(
    client: Client, settings: Settings, selfies: SelfieStore
) -> None:
    req = OnboardingRequest.model_validate(
        {
            "request_id": f"view-{uuid.uuid4().hex[:12]}",
            "subject": {
                "code": CPF,
                "name": PERSONAL["name"],
                "email": PERSONAL["email"],
                "phone": PERSONAL["phone"],
            },
            "selfie_ref": selfies.put(SAMPLE_SELFIE.read_bytes()),
            "options": {"poll_initial_seconds": 1, "poll_max_seconds": 2},
        }
    )
    handle = await start_onboarding(client, req, settings.task_queue)
    result = await handle.result()
    assert result.outcome == Outcome.REVIEW

    description = await handle.describe()
    summary, details = await description.static_summary(), await description.static_details()
    assert summary == "Unico identity check, use case Onboarding"
    assert details is not None and req.request_id in details and "Score bands" in details
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    current = metadata.current_details
    assert current.startswith("**Decided**: `review`")
    assert "score.review" in current

    events = await events_of(handle)
    story = []
    for event in events:
        if event.user_metadata.HasField("summary"):
            assert event.user_metadata.summary.metadata["encoding"] == ENCODING
            story.append(text_of(event.user_metadata.summary))
    # `validating` is set at start (free); the moments between show in the details only.
    assert stage_upserts(events) == ["waiting", "decided"]
    assert story[:2] == [
        summary,  # the start event carries the static summary
        "check the selfie, create Unico process (attempt 1)",
    ]
    assert f"read Unico process {result.process_id}" in story
    assert any(line.startswith("wait up to 1s for Unico") for line in story)

    attributes = description.typed_search_attributes
    memo = await description.memo()
    assert attributes.get(STAGE_ATTRIBUTE) == "decided"
    assert attributes.get(OUTCOME_ATTRIBUTE) == "review"
    assert attributes.get(PROCESS_ATTRIBUTE) == result.process_id
    assert "reasons" not in memo, "the result says them (lean-history)"

    shown = "\n".join(
        [summary or "", details, current, *story, json.dumps(memo)]
        + [str(pair.value) for pair in attributes]
    )
    leaked = [what for what, value in PERSONAL.items() if value.lower() in shown.lower()]
    assert leaked == []

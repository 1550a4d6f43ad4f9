"""Key rotation: a history written with a retired key still reads and replays; new payloads
use the new key; a converter without the old key says which one it lacks."""

from __future__ import annotations

import uuid

import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from activities.selfies.local_store import SelfieStore
from devstack.demo import SAMPLE_SELFIE
from onboarding.runtime.settings import Settings
from onboarding.temporal.converter import data_converter
from onboarding_client.codec import KEY_ID_METADATA
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.keyring import Keyring
from onboarding_client.onboardings import start_onboarding
from tests.integration.workers import serving_workers
from tests.replay.corpus import exported_payloads
from tests.support import TEST_KEYS, fixed_key
from workflows.onboarding import Onboarding
from workflows.retention import SelfieRetention

NEW_KEY = f"new-1:{fixed_key('rotated key')}"


def request(selfies: SelfieStore) -> OnboardingRequest:
    return OnboardingRequest.model_validate(
        {
            "request_id": uuid.uuid4().hex,
            "subject": {"code": "12345678909", "name": "Maria Silva"},
            "selfie_ref": selfies.put(SAMPLE_SELFIE.read_bytes()),
        }
    )


def key_ids(history: WorkflowHistory) -> set[str]:
    """The key ids that the history's encrypted payloads name (read raw: no codec)."""
    return {
        payload.metadata[KEY_ID_METADATA].decode()
        for event in history.events
        for payload in exported_payloads(MessageToDict(event))
        if KEY_ID_METADATA in payload.metadata
    }


async def connect_with(client: Client, keys: str) -> Client:
    return await Client.connect(
        client.service_client.config.target_host,
        data_converter=data_converter(Keyring.parse(keys)),
    )


async def test_rotation_keeps_old_histories_readable_and_encrypts_new_ones_with_the_new_key(
    client: Client, settings: Settings, selfies: SelfieStore, environment: dict[str, str]
) -> None:
    # Written before the rotation, by the session's worker: the test key only.
    before = request(selfies)
    old = await start_onboarding(client, before, settings.task_queue)
    assert (await old.result()).outcome == Outcome.APPROVED

    # After: the new key encrypts, the old one stays listed to decrypt.
    rotated = await connect_with(client, f"{NEW_KEY},{TEST_KEYS}")
    reread = rotated.get_workflow_handle(old.id, result_type=OnboardingResult)
    assert (await reread.result()).outcome == Outcome.APPROVED
    old_history = await reread.fetch_history()
    replayer = Replayer(
        workflows=[Onboarding, SelfieRetention], data_converter=rotated.data_converter
    )
    await replayer.replay_workflow(old_history)

    queue = f"rotated-{uuid.uuid4().hex[:8]}"
    keys = f"{NEW_KEY},{TEST_KEYS}"
    async with serving_workers(
        rotated, environment, task_queue=queue, onboarding_encryption_keys=keys
    ):
        new = await start_onboarding(rotated, request(selfies), queue)
        assert (await new.result()).outcome == Outcome.APPROVED

    assert key_ids(old_history) == {"test-1"}
    assert key_ids(await new.fetch_history()) == {"new-1"}


async def test_without_the_old_key_the_error_names_it(
    client: Client, settings: Settings, selfies: SelfieStore
) -> None:
    old = await start_onboarding(client, request(selfies), settings.task_queue)
    await old.result()
    new_only = await connect_with(client, NEW_KEY)
    with pytest.raises(KeyError, match=r"key id 'test-1'.*ONBOARDING_ENCRYPTION_KEYS"):
        await new_only.get_workflow_handle(old.id, result_type=OnboardingResult).result()

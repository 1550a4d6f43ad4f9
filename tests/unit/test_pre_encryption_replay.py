"""Histories written before payload encryption, the selfie's release and the hardened input
rules still replay with today's workflow code and the encrypted data converter.

They were recorded (`temporal workflow show --output json`) from the previous release's
worker: plaintext payloads, which the codec passes through, and no patch markers, so the
workflow takes the old paths. One has a request id that today's rules would refuse.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from onboarding.converter import data_converter
from tests.support import fixed_keyring
from workflows.onboarding import Onboarding
from workflows.selfie_release import SelfieRetention

HISTORIES = sorted((Path(__file__).parent / "histories").glob("pre-encryption-*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_replays_without_nondeterminism(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(
        workflows=[Onboarding, SelfieRetention], data_converter=data_converter(fixed_keyring())
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None


def test_the_corpus_is_there() -> None:
    assert len(HISTORIES) == 2

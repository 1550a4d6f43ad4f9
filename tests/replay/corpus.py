"""The replay corpus: batches of recorded histories, each with a manifest.

    tests/replay/histories/<batch>/manifest.json
    tests/replay/histories/<batch>/<case>.json        (run 1)
    tests/replay/histories/<batch>/<case>.run2.json   (after a continue-as-new)

A history file is the server's history as JSON (what `temporal workflow show --output json`
writes), payloads exactly as stored, each with its own `encoding` metadata. The manifest
says what each file is, what recorded it, and which payload codec its payloads went
through: `null` for plaintext batches, else the codec and the ids of the keys that sealed
them, all from the fixed test keyring (`tests.support.TEST_KEYS`), so that the corpus
replays with that keyring and never holds a real secret:

    "payload_codec": {"codec": "aes-256-gcm", "key_ids": ["test-1"],
                      "keyring": "tests.support.TEST_KEYS"}
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from onboarding.temporal.converter import worker_data_converter
from onboarding_client.codec import EncryptionCodec
from tests.support import fixed_keyring
from workflows.forget import ForgetRun
from workflows.retention import SelfieRetention

HISTORIES = Path(__file__).parent / "histories"
MANIFEST = "manifest.json"


def current_release() -> str:
    """The release line of the code under test (`1.0` for 1.0.x): its batches replay.

    Every run is pinned to the build that started it, so a change to the commands starts
    a new release line and a new corpus; the older batches leave with the code they tested
    (docs/changing-the-workflow.md)."""
    return ".".join(version("unico-onboarding").split(".")[:2])


@dataclass(frozen=True)
class Recorded:
    batch: str
    path: Path
    case: str
    workflow_id: str
    run: int
    outcome: str | None  # None for a run that continued as new
    payload_codec: dict[str, Any] | None  # None: plaintext payloads

    @property
    def name(self) -> str:
        return f"{self.batch}/{self.path.name}"

    def history(self) -> WorkflowHistory:
        return WorkflowHistory.from_json(self.workflow_id, self.path.read_text())

    @property
    def events(self) -> list[HistoryEvent]:
        return list(self.history().events)


def manifest_of(batch_dir: Path) -> dict[str, Any]:
    return dict(json.loads((batch_dir / MANIFEST).read_text()))


def load_corpus(root: Path = HISTORIES, release: str | None = None) -> list[Recorded]:
    """Every history of the batches of `release` (the current one by default)."""
    release = release or current_release()
    recorded = []
    for manifest_file in sorted(root.glob(f"*/{MANIFEST}")):
        batch_dir = manifest_file.parent
        manifest = manifest_of(batch_dir)
        if manifest.get("release") != release:
            continue
        for entry in manifest["histories"]:
            recorded.append(
                Recorded(
                    batch=batch_dir.name,
                    path=batch_dir / entry["file"],
                    case=entry["case"],
                    workflow_id=entry["workflow_id"],
                    run=entry["run"],
                    outcome=entry["outcome"],
                    payload_codec=manifest["payload_codec"],
                )
            )
    return recorded


# Plaintext batches pass through the codec; encrypted ones open with the fixed test keys.
CODEC = EncryptionCodec(fixed_keyring())


async def replay(workflow: type, recorded: Iterable[Recorded]) -> dict[str, Exception]:
    """Replay each history; the failures, by file name."""
    by_run: dict[str, Recorded] = {}

    async def histories() -> AsyncIterator[WorkflowHistory]:
        for item in recorded:
            history = item.history()
            by_run[history.run_id] = item
            yield history

    # As the worker decodes: a payload in clear is refused, never read (every 1.0 batch is
    # sealed; the one input in clear is its case's, `input-in-clear`).
    replayer = Replayer(
        workflows=[workflow, SelfieRetention, ForgetRun],
        data_converter=worker_data_converter(fixed_keyring()),
    )
    results = await replayer.replay_workflows(histories(), raise_on_replay_failure=False)
    return {by_run[run_id].name: failure for run_id, failure in results.replay_failures.items()}


def exported_payloads(node: Any, skip: frozenset[str] = frozenset()) -> Iterator[Payload]:
    """Every payload in a history's JSON (a history file, or `MessageToDict` of its events),
    in the order written, but those under the keys in `skip`."""
    if isinstance(node, list):
        for item in node:
            yield from exported_payloads(item, skip)
    elif isinstance(node, dict):
        metadata = node.get("metadata")
        if isinstance(metadata, dict) and "encoding" in metadata:
            yield Payload(
                metadata={key: base64.b64decode(value) for key, value in metadata.items()},
                data=base64.b64decode(node.get("data", "")),
            )
            return
        for key, item in node.items():
            if key not in skip:
                yield from exported_payloads(item, skip)


def payload_json(payload: Payload) -> Any:
    opened = CODEC.decrypt(payload)
    return json.loads(opened.data) if opened.data else None


def workflow_input(history: WorkflowHistory) -> dict[str, Any]:
    started = history.events[0].workflow_execution_started_event_attributes
    return dict(payload_json(started.input.payloads[0]))


def workflow_result(history: WorkflowHistory) -> dict[str, Any] | None:
    completed = history.events[-1].workflow_execution_completed_event_attributes
    return payload_json(completed.result.payloads[0]) if completed.result.payloads else None

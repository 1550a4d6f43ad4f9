"""The replay corpus: batches of recorded histories, each with a manifest.

    tests/replay/histories/<batch>/manifest.json
    tests/replay/histories/<batch>/<case>.json        (run 1)
    tests/replay/histories/<batch>/<case>.run2.json   (after a continue-as-new)

A history file is the server's history as JSON (what `temporal workflow show --output json`
writes), payloads exactly as stored, each with its own `encoding` metadata. The manifest
says what each file is, what recorded it, and which payload codec (none so far) its
payloads went through: a batch recorded with an encryption codec names the test key it
needs, so that the corpus replays with that key and never holds a real secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowHistory

HISTORIES = Path(__file__).parent / "histories"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Recorded:
    batch: str
    path: Path
    case: str
    workflow_id: str
    run: int
    outcome: str | None  # None for a run that continued as new
    payload_codec: str | None

    @property
    def name(self) -> str:
        return f"{self.batch}/{self.path.name}"

    def history(self) -> WorkflowHistory:
        return WorkflowHistory.from_json(self.workflow_id, self.path.read_text())


def manifest_of(batch_dir: Path) -> dict[str, Any]:
    return dict(json.loads((batch_dir / MANIFEST).read_text()))


def load_corpus(root: Path = HISTORIES) -> list[Recorded]:
    recorded = []
    for manifest_file in sorted(root.glob(f"*/{MANIFEST}")):
        batch_dir = manifest_file.parent
        manifest = manifest_of(batch_dir)
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

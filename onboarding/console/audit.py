"""Who looked at whose evidence: every view of a person's image, for an auditor.

A record names the reviewer (their verified login and subject), the moment and the case
(the request id): no customer data. Records go to an append-only JSON lines file
(CONSOLE_AUDIT_LOG) and to the console's log; `/audit` lists them, newest first, for
reviewers with role `senior_reviewer` or `auditor`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from contracts.review_proof import VerifiedReviewer

logger = logging.getLogger("onboarding.console.audit")

AUDIT_ROLES = frozenset({"senior_reviewer", "auditor"})


@dataclass(frozen=True)
class EvidenceView:
    at: str  # ISO 8601, UTC
    reviewer: str
    reviewer_id: str
    request_id: str


class EvidenceAudit:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, reviewer: VerifiedReviewer, request_id: str) -> EvidenceView:
        view = EvidenceView(
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            reviewer=reviewer.email,
            reviewer_id=reviewer.sub,
            request_id=request_id,
        )
        line = json.dumps(asdict(view), separators=(",", ":")) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as file:
                file.write(line)
        logger.info("evidence viewed: %s by %s", request_id, reviewer.sub)
        return view

    def views(self, limit: int = 500) -> list[EvidenceView]:
        """The latest views, newest first."""
        try:
            lines = self.path.read_text("utf-8").splitlines()
        except FileNotFoundError:
            return []
        found = []
        for line in reversed(lines[-limit:]):
            try:
                found.append(EvidenceView(**json.loads(line)))
            except (ValueError, TypeError):
                continue  # a line cut short by a crash: the rest still reads
        return found

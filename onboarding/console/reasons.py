"""The reason codes a reviewer picks from, by decision: a data file (`reasons.json`), so a
company edits its list without touching code. Each code fits the answer's rules
(`onboarding_client.contract.review.REASON_CODE`), checked when the file loads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files

from onboarding_client.contract.review import REASON_CODE, ReviewDecision


@dataclass(frozen=True)
class ReasonCode:
    code: str
    label: str


def load_reasons(text: str | None = None) -> dict[ReviewDecision, tuple[ReasonCode, ...]]:
    """The reason codes of each decision (from the packaged file unless `text` is given)."""
    raw = json.loads(
        text if text is not None else files(__package__).joinpath("reasons.json").read_text("utf-8")
    )
    reasons: dict[ReviewDecision, tuple[ReasonCode, ...]] = {}
    for decision in ReviewDecision:
        entries = tuple(ReasonCode(str(e["code"]), str(e["label"])) for e in raw[decision.value])
        for entry in entries:
            if not REASON_CODE.fullmatch(entry.code):
                raise ValueError(f"reason code {entry.code!r} is not a code (a-z 0-9 . _ -)")
        if not entries:
            raise ValueError(f"no reason code for {decision.value}")
        reasons[decision] = entries
    return reasons


def reason_for(
    reasons: dict[ReviewDecision, tuple[ReasonCode, ...]], decision: ReviewDecision, code: str
) -> ReasonCode | None:
    """The reason `code` when it is one of `decision`'s."""
    return next((r for r in reasons[decision] if r.code == code), None)

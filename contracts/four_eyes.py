"""Four eyes: when a reviewer's approval is not final until a second reviewer confirms it.

The rules are data (`four_eyes.json`): an approval where Unico's signals lean against the
person (a negative score band, the identity-fraudster flag) needs a second, different
reviewer with role `senior_reviewer`. `second_reviewer_needed` is the pure function the
workflow asks; it answers why (one code per signal), or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from onboarding_client.contract.review import ReviewSignals


@dataclass(frozen=True)
class FourEyesRules:
    bands: frozenset[str]  # score bands in which an approval needs a second reviewer
    fraudster: frozenset[str]  # identityFraudsters results that do

    @classmethod
    def from_data(cls, raw: Mapping[str, Any]) -> FourEyesRules:
        return cls(frozenset(raw.get("band", [])), frozenset(raw.get("fraudster", [])))


FOUR_EYES = FourEyesRules.from_data(
    json.loads(files(__package__).joinpath("four_eyes.json").read_text("utf-8"))
)


def second_reviewer_needed(
    signals: ReviewSignals | None, rules: FourEyesRules = FOUR_EYES
) -> list[str]:
    """Why an approval on these signals needs a second reviewer (`band.<band>`,
    `fraudster.<result>`); empty when one reviewer suffices."""
    if signals is None:
        return []
    why = []
    if signals.band in rules.bands:
        why.append(f"band.{signals.band}")
    if signals.fraudster in rules.fraudster:
        why.append(f"fraudster.{signals.fraudster}")
    return why

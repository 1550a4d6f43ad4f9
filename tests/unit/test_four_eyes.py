"""Four eyes as data: which approvals need a second reviewer (a senior), and the score's
band they are read from. Pure functions, table tests."""

from __future__ import annotations

import pytest

from contracts.four_eyes import FOUR_EYES, FourEyesRules, second_reviewer_needed
from onboarding_client.contract.request import PolicyBands
from onboarding_client.contract.review import ReviewSignals
from workflows.policy import score_band


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (None, None),
        (0, "zero"),
        (-100, "deny"),
        (-40, "deny"),
        (-39, "review_negative"),
        (-25, "review_negative"),
        (-10, "review_negative"),
        (-9, "unbanded"),
        (5, "unbanded"),
        (10, "review_positive"),
        (28, "review_positive"),
        (49, "review_positive"),
        (50, "approve"),
        (100, "approve"),
    ],
)
def test_the_score_band_reads_unico_s_published_bands(score: int | None, band: str | None) -> None:
    assert score_band(score, PolicyBands()) == band


@pytest.mark.parametrize(
    ("signals", "why"),
    [
        (None, []),
        (ReviewSignals(score=28, band="review_positive"), []),
        (ReviewSignals(score=-25, band="review_negative"), ["band.review_negative"]),
        (ReviewSignals(score=-50, band="deny"), ["band.deny"]),
        (ReviewSignals(score=0, band="zero"), ["band.zero"]),
        (ReviewSignals(fraudster="yes", score=25, band="unbanded"), ["fraudster.yes"]),
        (
            ReviewSignals(fraudster="yes", score=-20, band="review_negative"),
            ["band.review_negative", "fraudster.yes"],
        ),
        (ReviewSignals(fraudster="inconclusive", score=28, band="review_positive"), []),
        (ReviewSignals(fraudster="no", score=None, band=None), []),
    ],
)
def test_an_approval_against_the_signals_needs_a_second_reviewer(
    signals: ReviewSignals | None, why: list[str]
) -> None:
    assert second_reviewer_needed(signals) == why


def test_the_rules_are_the_data_file_s() -> None:
    assert (
        FourEyesRules(frozenset({"review_negative", "deny", "zero"}), frozenset({"yes"}))
        == FOUR_EYES
    )
    lenient = FourEyesRules.from_data({"band": ["deny"]})
    assert second_reviewer_needed(ReviewSignals(band="review_negative"), lenient) == []

"""policy.decide over real UAT bodies and the band edges (the scenario CPFs: tests/sandbox)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.unico import UnicoProcess
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import PolicyBands
from workflows.policy import decide


def process(**fields):
    return UnicoProcess.model_validate({"id": "p-1", **fields})


INCONCLUSIVE = {"unicoId": {"result": "inconclusive"}, "liveness": 1}


# Real UAT bodies, as Unico's Postman collection shows them.
FACTS_BODIES = [
    ({"status": 3, "unicoId": {"result": "yes"}}, Outcome.APPROVED),
    ({"status": 3, "unicoId": {"result": "inconclusive"}, "liveness": 1, "score": 28}, "review"),
    ({"status": 2, "unicoId": {"result": "inconclusive"}, "liveness": 1}, None),
    ({"status": 3, "unicoId": {"result": "inconclusive"}, "liveness": 2}, Outcome.REJECTED),
    # Seed 004's create and GET examples.
    (
        {
            "status": 1,
            "unicoId": {"result": "inconclusive"},
            "identityFraudsters": {"result": "inconclusive"},
            "government": {"serpro": 50},
            "liveness": 1,
        },
        None,
    ),
    (
        {
            "status": 3,
            "unicoId": {"result": "inconclusive"},
            "identityFraudsters": {"result": "inconclusive"},
            "score": 90,
            "government": {"serpro": 50},
            "liveness": 1,
        },
        Outcome.APPROVED,
    ),
]


@pytest.mark.parametrize(("body", "outcome"), FACTS_BODIES)
def test_real_bodies(body, outcome):
    assert decide(process(**body)).outcome == outcome


# Seed 004, "Cenários de response".
RESPONSE_SCENARIOS = [
    ({"status": 5}, Outcome.ERROR),
    (
        {"status": 3, **INCONCLUSIVE, "identityFraudsters": {"result": "inconclusive"}, "score": 0},
        Outcome.RECAPTURE,
    ),
    ({"status": 3, **INCONCLUSIVE, "identityFraudsters": {"result": "inconclusive"}}, "review"),
    ({"status": 1, **INCONCLUSIVE, "identityFraudsters": {"result": "yes"}}, None),
    ({"status": 2, **INCONCLUSIVE, "identityFraudsters": {"result": "inconclusive"}}, None),
    (
        {"status": 3, **INCONCLUSIVE, "identityFraudsters": {"result": "yes"}, "score": 0},
        Outcome.REJECTED,
    ),
    (
        {"status": 3, "unicoId": {"result": "inconclusive"}, "liveness": 2},
        Outcome.REJECTED,
    ),
    (
        {"status": 3, **INCONCLUSIVE, "identityFraudsters": {"result": "yes"}, "score": -5},
        Outcome.REJECTED,
    ),
]


@pytest.mark.parametrize(("body", "outcome"), RESPONSE_SCENARIOS)
def test_response_scenarios(body, outcome):
    assert decide(process(**body)).outcome == outcome


@pytest.mark.parametrize(
    ("score", "outcome", "code"),
    [
        (-100, Outcome.REJECTED, "score.deny"),
        (-40, Outcome.REJECTED, "score.deny"),
        (-39, Outcome.REVIEW, "score.review"),
        (-10, Outcome.REVIEW, "score.review"),
        (-5, Outcome.REVIEW, "score.unbanded"),
        (0, Outcome.RECAPTURE, "score.0"),
        (5, Outcome.REVIEW, "score.unbanded"),
        (10, Outcome.REVIEW, "score.review"),
        (49, Outcome.REVIEW, "score.review"),
        (50, Outcome.APPROVED, "score.approve"),
        (100, Outcome.APPROVED, "score.approve"),
    ],
)
def test_band_edges(score, outcome, code):
    decision = decide(process(status=3, **INCONCLUSIVE, score=score))
    assert (decision.outcome, decision.reasons[0].code) == (outcome, code)


def test_bands_are_configurable():
    strict = PolicyBands(approve_min=95)
    body = process(status=3, **INCONCLUSIVE, score=90)
    assert decide(body).outcome == Outcome.APPROVED
    assert decide(body, strict).outcome == Outcome.REVIEW


def test_fraudster_with_positive_score_follows_the_bands():
    body = process(status=3, **INCONCLUSIVE, identityFraudsters={"result": "yes"}, score=60)
    assert decide(body).outcome == Outcome.APPROVED


@pytest.mark.parametrize("status", [1, 2])
def test_not_final_has_no_outcome(status):
    decision = decide(process(status=status))
    assert decision.outcome is None
    assert decision.reasons[0].code == f"status.{status}"


def test_unknown_unico_id_goes_to_review():
    assert decide(process(status=3, unicoId={"result": "maybe"})).outcome == Outcome.REVIEW
    assert decide(process(status=3)).outcome == Outcome.REVIEW


def test_unknown_status_is_an_error():
    assert decide(process(status=9)).outcome == Outcome.ERROR


# Every shape of answer: the statuses, each unicoId result (and none, and an unknown one),
# liveness, the fraudster flag, scores at and around the bands.
ANSWERS = st.fixed_dictionaries(
    {"status": st.integers(min_value=0, max_value=6)},
    optional={
        "unicoId": st.sampled_from(["yes", "no", "inconclusive", "maybe"]).map(
            lambda result: {"result": result}
        ),
        "liveness": st.sampled_from([1, 2]),
        "identityFraudsters": st.sampled_from(["yes", "no"]).map(lambda r: {"result": r}),
        "score": st.integers(min_value=-100, max_value=100),
    },
)


@given(ANSWERS)
def test_a_settled_process_is_one_no_decision_creates_again(answer: dict[str, object]) -> None:
    # The selfie is released on a settled answer: a decision that creates a new process
    # after it would find no selfie. And nothing final that needs no new process keeps it.
    answered = process(**answer)
    decision = decide(answered)
    assert answered.is_settled == (answered.status in (3, 4) and not decision.retry_new_process), (
        decision
    )

"""What Unico answers, chosen by the subject's CPF, like a payment provider's test cards.

One row per CPF (sandbox/README.md shows the table). `created` is the body of `POST /processes/v1`
(without `id`); `later`, when set, is what `GET /processes/v1/{id}` shows once the async
delay has passed. A view with status 5 is answered by GET as HTTP 410.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

View = Mapping[str, Any]


@dataclass(frozen=True)
class Scenario:
    created: View
    later: View | None = None


def _pending(fraudsters: str = "inconclusive") -> View:
    """Status 1: identity inconclusive, the risk score is still being computed (seed 004)."""
    return {
        "status": 1,
        "unicoId": {"result": "inconclusive"},
        "identityFraudsters": {"result": fraudsters},
        "government": {"serpro": 50},
        "liveness": 1,
    }


def _scored(score: int | None, fraudsters: str = "inconclusive") -> View:
    """Status 3 after the risk score; `score=None` is the "score drop" of seed 004."""
    view = {**_pending(fraudsters), "status": 3}
    return view if score is None else {**view, "score": score}


_YES: View = {"status": 3, "unicoId": {"result": "yes"}}  # yes/no carry no liveness field

SCENARIOS: Mapping[str, Scenario] = MappingProxyType(
    {
        "12345678909": Scenario(_YES),
        "00000000191": Scenario({"status": 3, "unicoId": {"result": "no"}}),
        "00000000272": Scenario(_pending(), _scored(90)),
        "00000000353": Scenario(_pending(), _scored(28)),
        "00000000434": Scenario(_pending(), _scored(-50)),
        "00000000515": Scenario(_pending(), _scored(0)),
        "00000000604": Scenario(_pending(), _scored(None)),
        "00000000787": Scenario({"status": 5}),
        "00000000868": Scenario(_pending(), {"status": 5}),
        "00000000949": Scenario(
            {"status": 3, "unicoId": {"result": "inconclusive"}, "liveness": 2}
        ),
        "00000001082": Scenario(_pending("yes"), _scored(-20, "yes")),
        "00000001163": Scenario(_pending(), {"status": 4}),
        "00000001244": Scenario(_pending(), _scored(-25)),
    }
)

DEFAULT = SCENARIOS["12345678909"]


def scenario_for(cpf: str) -> Scenario:
    """Any valid CPF outside the table behaves like 12345678909."""
    return SCENARIOS.get(cpf, DEFAULT)

"""The sandbox's scenario CPFs and the outcome each must reach (sandbox/README.md shows them)."""

from __future__ import annotations

from dataclasses import dataclass

from onboarding_client.contract.outcome import Outcome


@dataclass(frozen=True)
class Scenario:
    cpf: str
    unico_behaviour: str
    expected: Outcome


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("12345678909", "create answers status 3, unicoId yes", Outcome.APPROVED),
    Scenario("00000000191", "status 3, unicoId no", Outcome.REJECTED),
    Scenario("00000000272", "status 1, later 3, inconclusive, score 90", Outcome.APPROVED),
    Scenario("00000000353", "status 1, later 3 with score 28", Outcome.REVIEW),
    Scenario("00000000434", "status 1, later 3 with score -50", Outcome.REJECTED),
    Scenario("00000000515", "status 1, later 3 with score 0", Outcome.RECAPTURE),
    Scenario("00000000604", "status 1, later 3 with no score (every time)", Outcome.REVIEW),
    Scenario("00000000787", "create answers status 5 (every time)", Outcome.ERROR),
    Scenario("00000000868", "status 1, then GET answers 410", Outcome.ERROR),
    Scenario("00000000949", "status 3, inconclusive, liveness 2", Outcome.REJECTED),
    Scenario("00000001082", "status 1, fraudster yes, later 3 with score -20", Outcome.REJECTED),
    Scenario("00000001163", "status 1, later 4 (canceled)", Outcome.CANCELED),
    Scenario(
        "00000001244",
        "status 1, later 3 with score -25 (an approval needs four eyes)",
        Outcome.REVIEW,
    ),
)

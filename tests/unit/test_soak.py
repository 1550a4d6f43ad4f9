"""`make soak`'s own logic: its pace, its faults' schedule, its windows and its verdict.

The soak itself runs for minutes on the real stack (bench/soak.py); these pin what it
concludes from what it saw, so that a failing run cannot pass for want of a check.
"""

from __future__ import annotations

from typing import Any

from bench.soak import (
    FAULTS,
    PATHS,
    Onboarding,
    Sample,
    expected,
    fault_schedule,
    kill_worker,
    pace,
    verdict,
    windows,
)
from onboarding_client.contract.result import OnboardingResult


def ended(path: str, started: float, decided: float, at: float, ok: bool = True) -> Onboarding:
    return Onboarding(path, "r", "s", started, decided=decided, ended=at, as_expected=ok)


def sample(at: float, worker: float = 100.0, server: float = 200.0) -> Sample:
    return Sample(at, worker, server, server - 50.0, selfies=1, evidence=0)


def steady(minutes: int = 15, window: int = 5) -> list[dict[str, Any]]:
    """Windows of a run where every figure stays flat."""
    onboardings = [ended("sync", t, 1.0, t + 2.0) for t in range(0, minutes * 60, 10)]
    samples = [sample(t) for t in range(0, minutes * 60, 10)]
    return windows(onboardings, samples, minutes, window)


def test_the_pace_asks_unico_for_the_share_of_the_budget() -> None:
    calls = sum(c for _, c in PATHS) / len(PATHS)
    interval = pace(tenant_rate=3.0, load=0.8)
    assert calls / interval == 3.0 * 0.8


def test_every_window_meets_each_fault_once_and_the_first_the_worker_s_kill() -> None:
    plan = fault_schedule(length=1200.0, width=300.0)
    assert [at for at, _ in plan] == sorted(at for at, _ in plan)
    kills = [at for at, fault in plan if fault is kill_worker]
    assert kills == [150.0], "once, in the middle of the first window"
    for low in (0.0, 300.0, 600.0, 900.0):
        inside = [fault for at, fault in plan if low <= at < low + 300.0]
        assert [f for f in inside if f is not kill_worker] == list(FAULTS)
    assert all(at < 1200.0 for at, _ in plan)


def test_a_window_counts_what_ended_in_it_and_the_drain_in_the_last() -> None:
    onboardings = [
        ended("sync", 10.0, 1.0, 20.0),
        ended("review", 250.0, 5.0, 320.0, ok=False),  # ends in the second window
        ended("webhook", 590.0, 6.0, 640.0),  # after the run: the drain, in the last
    ]
    rows = windows(onboardings, [sample(5.0), sample(305.0)], minutes=10, window_minutes=5)
    assert [(r["finished"], r["as_expected"], r["differ"]) for r in rows] == [
        (1, 1, 0),
        (2, 1, 1),
    ]
    # A decision counts where it was answered: the review's at 255 s, in the first.
    assert rows[0]["decision_p50_s"] == 1.0 and rows[0]["decision_p95_s"] == 5.0
    assert rows[1]["decision_p95_s"] == 6.0


def test_a_steady_run_passes() -> None:
    assert verdict([ended("sync", 0.0, 1.0, 2.0)], steady(), selfies=0, evidence=0) == []


def test_a_lost_onboarding_fails_the_soak() -> None:
    lost = Onboarding("review", "r", "s", 10.0)
    assert "1 onboarding(s) lost" in verdict([lost], steady(), 0, 0)[0]


def test_an_outcome_that_differs_fails_the_soak() -> None:
    wrong = ended("rejected", 0.0, 1.0, 2.0, ok=False)
    assert "1 outcome(s) differ" in verdict([wrong], steady(), 0, 0)[0]


def test_a_selfie_or_evidence_left_behind_fails_the_soak() -> None:
    left = ended("sync", 0.0, 1.0, 2.0)
    left.selfie_left = True
    assert "left behind: 1 selfie(s)" in verdict([left], steady(), 0, 0)[0]
    assert "2 evidence" in verdict([], steady(), selfies=0, evidence=2)[0]


def test_memory_grown_over_a_tenth_from_the_second_window_fails_the_soak() -> None:
    rows = steady()
    rows[-1]["worker_rss_mib"] = rows[1]["worker_rss_mib"] * 1.11
    assert verdict([], rows, 0, 0) == ["worker_rss_mib: 100 -> 111 MiB (> +10 %)"]
    rows[-1]["worker_rss_mib"] = rows[1]["worker_rss_mib"] * 1.09
    assert verdict([], rows, 0, 0) == []


def test_the_last_window_s_p95_over_1_5x_the_second_s_fails_the_soak() -> None:
    rows = steady()
    rows[-1]["decision_p95_s"] = rows[1]["decision_p95_s"] * 1.6
    assert verdict([], rows, 0, 0) == ["decision p95: 1.00 -> 1.60 s (> 1.5x)"]


def test_growth_is_judged_only_with_a_window_after_the_second() -> None:
    rows = steady(minutes=10)
    rows[-1]["worker_rss_mib"] *= 2
    assert verdict([], rows, 0, 0) == []


def result(**fields: Any) -> OnboardingResult:
    return OnboardingResult.model_validate({"outcome": "approved", **fields})


def test_each_path_s_result_must_be_the_one_its_cpf_and_options_imply() -> None:
    assert expected("sync", result())
    assert not expected("sync", result(outcome="review"))
    assert expected("recapture", result(outcome="recapture"))
    assert not expected("rejected", result())
    assert not expected("account", result()), "approved without its account"
    assert not expected("mfa", result()), "approved without the phone enrolled"
    assert not expected("review", result()), "approved without the reviewer's answer"

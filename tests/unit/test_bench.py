"""The benchmark runner: how it finds benchmarks and sums up their timings."""

from __future__ import annotations

from bench.result import spread


def test_spread_reports_min_median_p95_max() -> None:
    timings = [0.1 * n for n in range(1, 21)]  # 0.1 .. 2.0
    assert spread(timings) == {"min": 0.1, "median": 1.05, "p95": 1.9, "max": 2.0}


def test_spread_of_one() -> None:
    assert spread([0.25]) == {"min": 0.25, "median": 0.25, "p95": 0.25, "max": 0.25}


def test_the_runner_finds_every_benchmark_module() -> None:
    from bench import (
        actions,
        codec_cost,
        decision_time,
        fleet_rate_limit,
        memory,
        throughput,
        webhook_latency,
    )
    from bench.__main__ import discover

    assert discover() == {
        "actions": actions.run,
        "codec": codec_cost.run,
        "decision_time": decision_time.run,
        "fleet_rate_limit": fleet_rate_limit.run,
        "memory": memory.run,
        "throughput": throughput.run,
        "webhook_latency": webhook_latency.run,
    }


def test_a_long_benchmark_runs_only_when_named() -> None:
    from bench.__main__ import defaults, discover

    assert defaults(discover()) == [
        "actions",
        "codec",
        "decision_time",
        "fleet_rate_limit",
        "throughput",
        "webhook_latency",
    ]

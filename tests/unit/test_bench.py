"""The benchmark runner: how it finds benchmarks, sums up their timings and derives rates."""

from __future__ import annotations

import json
from typing import Any

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from bench.result import spread
from bench.unico_budget import backlog_rate
from tests.replay.corpus import exported_payloads, load_corpus, payload_json


def test_spread_reports_min_median_p95_max() -> None:
    timings = [0.1 * n for n in range(1, 21)]  # 0.1 .. 2.0
    assert spread(timings) == {"min": 0.1, "median": 1.05, "p95": 1.9, "max": 2.0}


def test_spread_of_one() -> None:
    assert spread([0.25]) == {"min": 0.25, "median": 0.25, "p95": 0.25, "max": 0.25}


def test_the_budget_rate_counts_the_calls_after_the_last_start() -> None:
    # 2 calls before the backlog was queued at t=10, then 20 over the next 2 s.
    arrivals = [9.0, 9.5, *(10.1 + 0.1 * n for n in range(20))]
    assert backlog_rate(arrivals, queued=10.0) == pytest.approx(20 / 2.0)


@pytest.mark.parametrize("arrivals", [[], [9.0, 9.9], [9.0, 10.5], [10.0, 10.0]])
def test_a_backlog_that_never_waited_has_no_rate(arrivals: list[float]) -> None:
    with pytest.raises(RuntimeError, match="the backlog never waited"):
        backlog_rate(arrivals, queued=10.0)


def test_the_runner_finds_every_benchmark_module() -> None:
    from bench import (
        actions,
        codec_cost,
        console_queue,
        decision_time,
        fleet_rate_limit,
        memory,
        throughput,
        unico_budget,
        unsealed,
        webhook_latency,
    )
    from bench.__main__ import discover

    assert discover() == {
        "actions": actions.run,
        "codec": codec_cost.run,
        "console_queue": console_queue.run,
        "decision_time": decision_time.run,
        "fleet_rate_limit": fleet_rate_limit.run,
        "memory": memory.run,
        "throughput": throughput.run,
        "unico_budget": unico_budget.run,
        "unsealed": unsealed.run,
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
        "unico_budget",
        "webhook_latency",
    ]


def shape(value: Any) -> Any:
    """A JSON value with its scalars blanked: what a payload carries, not its values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return "scalar"


async def test_the_codec_bench_times_the_payloads_a_webhook_onboarding_writes() -> None:
    from bench.codec_cost import typical_onboarding

    # The path the bench times: a webhook onboarding of today's build.
    webhook = [r for r in load_corpus() if r.case == "webhook-00000000272-approved"]
    assert webhook, "record a batch (make histories)"
    history = json.loads(webhook[-1].path.read_text())
    sealed = b"binary/encrypted"
    payloads = exported_payloads(history["events"])
    recorded = [payload_json(p) for p in payloads if p.metadata["encoding"] == sealed]
    timed = [
        json.loads(p.data)
        for value in typical_onboarding()
        for p in await pydantic_data_converter.encode([value])
    ]
    assert [shape(v) for v in timed] == [shape(v) for v in recorded]

"""The benchmark's pure figures: percentiles, per-onboarding costs, ratios, the table."""

from __future__ import annotations

from bench.report import Round, markdown, percentile, ratios


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([3.0], 95) == 3.0
    assert percentile([], 50) == 0.0


def test_round_figures_amortize_tokens_over_all_onboardings() -> None:
    # 10 onboardings, 5 async: 1 token, 10 creates, 5 reads (one per async onboarding).
    calls = {"token": 1, "create": 10, "get": 5}
    row = Round("ours", 10, 5, 2.0, [0.1] * 10, calls, 0.5, 100.0).figures()
    assert row["throughput_per_s"] == 5.0
    assert row["calls_per_onboarding"] == 1.6
    assert row["calls_per_async_onboarding"] == 2.1  # create + read + 1/10 token
    assert row["tokens_per_1000"] == 100.0
    assert row["cpu_ms_per_onboarding"] == 50.0


def test_ratios_and_table() -> None:
    rows = [
        {"variant": "engine", "n": 10, "throughput_per_s": 10.0},
        {"variant": "ours", "n": 10, "throughput_per_s": 8.0},
        {"variant": "direct", "n": 10, "throughput_per_s": 16.0},
    ]
    assert ratios(rows) == {10: {"ours/engine": 0.8, "ours/direct": 0.5}}
    # Run again at the same N, each variant counts by its median.
    again = [
        {"variant": "engine", "n": 10, "throughput_per_s": 12.0},
        {"variant": "engine", "n": 10, "throughput_per_s": 30.0},
        {"variant": "ours", "n": 10, "throughput_per_s": 9.0},
        {"variant": "ours", "n": 10, "throughput_per_s": 10.0},
    ]
    assert ratios(rows + again) == {10: {"ours/engine": 0.75, "ours/direct": 0.56}}
    full = [
        Round(
            "ours", 4, 2, 1.0, [0.2] * 4, {"token": 1, "create": 4, "get": 2}, 0.1, 50.0
        ).figures()
    ]
    for row in full:
        row |= {"server_cpu_ms_per_onboarding": 1.0, "sandbox_cpu_ms_per_onboarding": 2.0}
    table = markdown(full)
    assert table[0].startswith("| variant | N | onboardings/s")
    assert table[2].startswith("| ours | 4 | 4.0 |")

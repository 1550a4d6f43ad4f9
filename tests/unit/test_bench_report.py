"""The benchmark's pure figures: percentiles, per-onboarding costs, ratios, the table."""

from __future__ import annotations

from bench.procfs import host_ticks, stolen_pct
from bench.report import PairedRatio, Round, markdown, paired_ratio, percentile, ratios


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
        row |= {"host_stolen_pct": 0.5}
    table = markdown(full)
    assert table[0].startswith("| variant | N | onboardings/s")
    assert table[2].startswith("| ours | 4 | 4.0 |")
    assert table[2].endswith("| 0.5 |")  # the host's steal, last


def test_paired_ratio_counts_the_clean_pairs_by_their_own_ratios() -> None:
    def run(variant: str, pair: int, rate: float, stolen: float) -> dict[str, object]:
        return {
            "variant": variant,
            "n": 150,
            "pair": pair,
            "throughput_per_s": rate,
            "host_stolen_pct": stolen,
        }

    rows = [
        {"variant": "noop", "n": 150, "throughput_per_s": 99.0},  # no pair: not counted
        run("engine", 0, 10.0, 1.0),
        run("ours", 0, 9.0, 1.0),  # 0.9
        run("ours", 1, 5.0, 12.0),
        run("engine", 1, 10.0, 0.5),  # the host took CPU: left out
        run("engine", 2, 12.0, 0.0),
        run("ours", 2, 12.0, 4.9),  # 1.0
        run("engine", 3, 10.0, 2.0),
        run("ours", 3, 8.0, 2.0),  # 0.8
    ]
    paired = paired_ratio(rows, max_stolen_pct=5.0)
    assert paired == PairedRatio(ratio=0.9, pairs=4, clean=3, each=[0.9, 0.5, 1.0, 0.8])
    assert "median of 3 clean of 4 pairs" in paired.describe(5.0)
    # No clean pair: every pair counts, and the line says so.
    busy = [row | {"host_stolen_pct": 20.0} for row in rows[1:]]
    paired = paired_ratio(busy, max_stolen_pct=5.0)
    assert (paired.ratio, paired.clean) == (0.85, 0)
    assert "all (none clean)" in paired.describe(5.0)
    # A pair that lost a side (a run that failed) is no pair.
    assert paired_ratio(rows[1:2], max_stolen_pct=5.0).pairs == 0


def test_stolen_share_between_two_readings_of_the_host() -> None:
    assert stolen_pct((100, 1000), (150, 2000)) == 5.0
    assert stolen_pct((100, 1000), (100, 1000)) == 0.0  # no time passed
    stolen, total = host_ticks()
    assert 0 <= stolen <= total and total > 0

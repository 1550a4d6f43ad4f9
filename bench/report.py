"""Pure figures of a benchmark round: summaries, ratios and the Markdown table."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Round:
    """One variant (ours, engine, direct) at one N."""

    variant: str
    n: int
    n_async: int
    wall_seconds: float
    extra_latencies: Sequence[float]  # seconds beyond the sandbox's own processing delay
    calls: Mapping[str, int]  # token, create, get, as the sandbox counted them
    cpu_seconds: float
    peak_rss_mib: float

    def figures(self) -> dict[str, Any]:
        n = self.n
        tokens, creates, gets = (self.calls.get(k, 0) for k in ("token", "create", "get"))
        # An async onboarding's own calls: its create and reads, plus its share of tokens.
        per_async = (
            (self.n_async + gets) / self.n_async + tokens / n if self.n_async and creates else 0.0
        )
        return {
            "variant": self.variant,
            "n": n,
            "throughput_per_s": round(n / self.wall_seconds, 2),
            "p50_extra_s": round(percentile(self.extra_latencies, 50), 3),
            "p95_extra_s": round(percentile(self.extra_latencies, 95), 3),
            "calls_per_onboarding": round((tokens + creates + gets) / n, 2),
            "calls_per_async_onboarding": round(per_async, 2),
            "tokens_per_1000": round(1000 * tokens / n, 1),
            "calls": dict(self.calls),
            "cpu_ms_per_onboarding": round(1000 * self.cpu_seconds / n, 2),
            "peak_rss_mib": round(self.peak_rss_mib, 1),
            "wall_seconds": round(self.wall_seconds, 2),
        }


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))  # ceil without floats' surprises
    return ordered[int(rank) - 1]


def ratios(rows: Sequence[Mapping[str, Any]]) -> dict[int, dict[str, float]]:
    """ours / engine (the floor), ours / noop and ours / direct throughput, per N; a
    variant run more than once at an N counts by its median."""
    runs: dict[tuple[str, int], list[float]] = {}
    for row in rows:
        runs.setdefault((row["variant"], row["n"]), []).append(row["throughput_per_s"])
    typical = {key: statistics.median(values) for key, values in runs.items()}
    out: dict[int, dict[str, float]] = {}
    for (variant, n), ours in typical.items():
        if variant != "ours":
            continue
        out[n] = {
            f"ours/{other}": round(ours / typical[(other, n)], 2)
            for other in ("engine", "noop", "direct")
            if typical.get((other, n))
        }
    return out


def paired_ratio(rows: Sequence[Mapping[str, Any]], max_stolen_pct: float) -> PairedRatio:
    """ours / engine from rounds run as pairs, back to back (rows with a `pair` number):
    the median of each pair's own ratio, over the pairs in which the host took no more than
    `max_stolen_pct` of the CPU from either run (all pairs when none is clean).

    A pair shares the machine's moment: what drifts or comes in bursts (another guest on the
    host, the database growing) falls on both of its sides, not on one variant's rounds."""
    pairs: dict[int, dict[str, Mapping[str, Any]]] = {}
    for row in rows:
        if "pair" in row:
            pairs.setdefault(row["pair"], {})[row["variant"]] = row
    each = [
        (
            p["ours"]["throughput_per_s"] / p["engine"]["throughput_per_s"],
            undisturbed(p.values(), max_stolen_pct),
        )
        for p in pairs.values()
        if {"ours", "engine"} <= p.keys() and p["engine"]["throughput_per_s"]
    ]
    clean = [ratio for ratio, ok in each if ok]
    counted = clean or [ratio for ratio, _ in each]
    return PairedRatio(
        ratio=round(statistics.median(counted), 2) if counted else 0.0,
        pairs=len(each),
        clean=len(clean),
        each=[round(ratio, 2) for ratio, _ in each],
    )


def undisturbed(runs: Iterable[Mapping[str, Any]], max_stolen_pct: float) -> bool:
    """No run in which the host took more than `max_stolen_pct` of the CPU."""
    return all(run["host_stolen_pct"] <= max_stolen_pct for run in runs)


@dataclass(frozen=True)
class PairedRatio:
    ratio: float  # the median over the clean pairs (over all, when none is clean)
    pairs: int
    clean: int
    each: list[float]  # every pair's ratio, in the order run

    def describe(self, max_stolen_pct: float) -> str:
        counted = f"{self.clean} clean" if self.clean else "all (none clean)"
        return (
            f"ours/engine {self.ratio:.2f}: median of {counted} of {self.pairs} pairs run back"
            f" to back (clean: the host took <= {max_stolen_pct:g} % of the CPU from each"
            f" run); each pair {', '.join(f'{r:.2f}' for r in self.each)}"
        )


COLUMNS = (
    ("variant", "variant"),
    ("n", "N"),
    ("throughput_per_s", "onboardings/s"),
    ("p50_extra_s", "p50 extra s"),
    ("p95_extra_s", "p95 extra s"),
    ("calls_per_onboarding", "calls/onb"),
    ("calls_per_async_onboarding", "calls/async onb"),
    ("tokens_per_1000", "tokens/1000"),
    ("cpu_ms_per_onboarding", "worker CPU ms/onb"),
    ("server_cpu_ms_per_onboarding", "server CPU ms/onb"),
    ("sandbox_cpu_ms_per_onboarding", "sandbox CPU ms/onb"),
    ("peak_rss_mib", "peak RSS MiB"),
    ("host_stolen_pct", "host stolen %"),
)


def markdown(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    lines += ["| " + " | ".join(str(row[key]) for key, _ in COLUMNS) + " |" for row in rows]
    return lines


def max_in_any_window(times: Sequence[float], window: float = 1.0) -> int:
    """The most events inside any half-open window of `window` seconds."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(ordered):
        while t - ordered[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most

"""Pure figures of a benchmark round: summaries, ratios and the Markdown table."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
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

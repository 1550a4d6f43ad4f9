"""What a benchmark hands back to the runner."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BenchResult:
    name: str
    figures: dict[str, Any]
    lines: list[str] = field(default_factory=list)
    target_met: bool = True  # the figure the issue promises, e.g. "within 1 s"


def spread(seconds: Sequence[float]) -> dict[str, float]:
    """min, median, p95 (nearest rank) and max, in seconds, rounded to the millisecond."""
    ordered = sorted(seconds)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    figures = {"min": ordered[0], "median": statistics.median(ordered), "p95": p95}
    figures["max"] = ordered[-1]
    return {key: round(value, 3) for key, value in figures.items()}

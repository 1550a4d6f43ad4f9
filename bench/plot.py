"""The PNG of a throughput run: onboardings/s and latency beyond Unico's delay, against N."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def plot(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    import matplotlib  # imported here: only the benchmark needs it

    matplotlib.use("Agg")  # no display on a CI machine
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for variant in dict.fromkeys(row["variant"] for row in rows):
        mine = sorted((r for r in rows if r["variant"] == variant), key=lambda r: r["n"])
        ns = [r["n"] for r in mine]
        left.plot(ns, [r["throughput_per_s"] for r in mine], marker="o", label=variant)
        line = right.plot(ns, [r["p50_extra_s"] for r in mine], marker="o", label=f"{variant} p50")
        colour = line[0].get_color()
        right.plot(ns, [r["p95_extra_s"] for r in mine], ls="--", color=colour, label="p95")
    left.set(xlabel="N onboardings", ylabel="onboardings / s", title="throughput")
    right.set(xlabel="N onboardings", ylabel="seconds", title="latency beyond Unico's delay")
    left.legend()
    right.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)

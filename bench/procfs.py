"""CPU and memory of a process, read from /proc (Linux), without extra dependencies."""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the command name may hold spaces
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    raise LookupError(f"{key} not in /proc/{pid}/status")


def rss_mib(pid: int) -> float:
    return _status_kib(pid, "VmRSS") / 1024


def anonymous_rss_mib(pid: int) -> float:
    """The part of the RSS that is the process's own memory (heap, stacks), not pages of
    files it maps, which the kernel may take back."""
    return _status_kib(pid, "RssAnon") / 1024


def peak_rss_mib(pid: int) -> float:
    return _status_kib(pid, "VmHWM") / 1024


def reset_peak_rss(pid: int) -> None:
    """Start a new peak-RSS window: writing 5 to clear_refs resets VmHWM (Linux >= 4.0)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def host_ticks() -> tuple[int, int]:
    """The host's CPU ticks so far, all cores: (stolen, all). Stolen ticks are those the
    hypervisor gave another guest while this one had work to run."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    # user nice system idle iowait irq softirq steal [guest guest_nice, inside user/nice]
    return fields[7], sum(fields[:8])


def stolen_pct(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the host's CPU time between two readings that went to another guest."""
    stolen, total = after[0] - before[0], after[1] - before[1]
    return round(100 * stolen / total, 1) if total > 0 else 0.0

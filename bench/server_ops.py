"""What the server does per onboarding, counted rather than timed.

Throughput and CPU time move with the host (a run on two shared cores swings by a tenth),
the server's own counters do not. `temporal server start-dev --metrics-port` serves them
in Prometheus's text format: requests by service (frontend, history, matching) and
operation, and the persistence calls those make. Read before and after a measured run and
divided by its onboardings, ours against the floor's, they say what server work ours adds
and where: a figure only ours has is work the floor's job does without (the webhook's
lookup, a search attribute's upsert), or work nobody needs (a heartbeat written to the
workflow's state for a call that answered in milliseconds was one, found this way).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from devstack.stack import LOOPBACK

# Requests each service serves, and the database calls they make (history and visibility).
COUNTERS = ("service_requests", "persistence_requests", "visibility_persistence_requests")
# Below this many per onboarding, a difference is the window's edge: timers of the run
# before firing in this one, a namespace refresh.
NOTABLE = 0.05

Key = str  # "<counter> <service> <operation>"


@dataclass(frozen=True)
class ServerCounters:
    """The counters of a dev server started with `args` (on loopback, as it binds)."""

    port: int

    @property
    def args(self) -> tuple[str, ...]:
        return ("--metrics-port", str(self.port))

    def read(self) -> dict[Key, float]:
        return counts(httpx.get(f"http://{LOOPBACK}:{self.port}/metrics", timeout=10).text)


def counts(scrape: str) -> dict[Key, float]:
    """The counters of one scrape, summed over every label but service and operation."""
    totals: dict[Key, float] = defaultdict(float)
    for family in text_string_to_metric_families(scrape):
        if family.name not in COUNTERS:
            continue
        for sample in family.samples:
            labels = sample.labels
            key = f"{family.name} {labels.get('service_name', '-')} {labels.get('operation', '-')}"
            totals[key] += sample.value
    return dict(totals)


def per_onboarding(
    before: Mapping[Key, float], after: Mapping[Key, float], n: int
) -> dict[Key, float]:
    """What a run of `n` onboardings added to each counter, per onboarding."""
    added = {key: value - before.get(key, 0.0) for key, value in after.items()}
    return {key: round(value / n, 2) for key, value in added.items() if value > 0}


def differences(ours: Mapping[Key, float], floor: Mapping[Key, float]) -> list[str]:
    """The counters where ours and the floor differ by `NOTABLE` or more per onboarding."""
    lines = []
    for key in sorted(set(ours) | set(floor)):
        mine, theirs = ours.get(key, 0.0), floor.get(key, 0.0)
        if abs(mine - theirs) >= NOTABLE:
            lines.append(f"  {key:<70} ours {mine:6.2f}  floor {theirs:6.2f}")
    return lines

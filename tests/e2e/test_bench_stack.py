"""The benchmarks' server caches search attributes, as a production server does.

`temporal server start-dev` reads them from its database again on every start that sets
one, every upsert and every visibility query; the benchmarks' stack turns the cache back
on (bench/stack.py), so that they do not price ours by a cost of dev mode. Counted from the
server's own persistence metrics: the cluster-metadata reads that hold the attributes.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from pathlib import Path

import httpx
import pytest
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from bench.stack import SEARCH_ATTRIBUTE_CACHE, bench_stack
from devstack.stack import DevStack, free_port
from onboarding_client.contract.names import STAGE_ATTRIBUTE

pytestmark = pytest.mark.e2e

STARTS = 5
VISIBILITY_SETTLES = 2.0
READS = re.compile(
    r'^persistence_requests\{[^}]*operation="GetCurrentClusterMetadata"[^}]*\} (\S+)$', re.M
)


def attribute_reads(metrics_port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
    return sum(float(value) for value in READS.findall(text))


async def reads_per_start(stack: DevStack, metrics_port: int) -> float:
    """Cluster-metadata reads per start of a workflow that sets a search attribute, its
    visibility record included."""
    attributes = TypedSearchAttributes([SearchAttributePair(STAGE_ATTRIBUTE, "validating")])
    await stack.client.start_workflow(  # the first: whatever the server loads once
        "Idle", id=f"warm-{uuid.uuid4().hex}", task_queue="nobody", search_attributes=attributes
    )
    await asyncio.sleep(VISIBILITY_SETTLES)
    before = attribute_reads(metrics_port)
    for _ in range(STARTS):
        await stack.client.start_workflow(
            "Idle",
            id=f"idle-{uuid.uuid4().hex}",
            task_queue="nobody",
            search_attributes=attributes,
        )
    await asyncio.sleep(VISIBILITY_SETTLES)  # each start's visibility record is written after it
    return (attribute_reads(metrics_port) - before) / STARTS


async def test_the_bench_server_reads_search_attributes_from_its_cache(tmp_path: Path) -> None:
    port = free_port()
    options = {"parts": ("temporal",), "temporal_args": ("--metrics-port", str(port))}
    async with bench_stack(tmp_path / "bench", **options) as stack:
        command = stack.child("temporal").command
        assert " ".join(SEARCH_ATTRIBUTE_CACHE) in " ".join(command)
        assert "--metrics-port" in command  # a benchmark's own flags are kept
        cached = await reads_per_start(stack, port)
    assert cached == 0


async def test_the_dev_servers_default_reads_them_on_every_start(tmp_path: Path) -> None:
    """What the benchmarks' stack avoids (and `make run` keeps: an attribute created while
    it runs is seen at once)."""
    port = free_port()
    options = {"parts": ("temporal",), "temporal_args": ("--metrics-port", str(port))}
    async with DevStack.on_free_ports(tmp_path / "dev", **options) as stack:
        uncached = await reads_per_start(stack, port)
    assert uncached >= 1

"""The stack every benchmark measures on: `onboarding dev`'s, with its server caching
search attributes as a production server does.

`temporal server start-dev` turns that cache off unless told otherwise, so that an
attribute created a moment ago is seen at once; then every start with attributes, every
upsert and every visibility query reads them from the database again (about 20 reads
per onboarding of ours), a cost no production cluster or Temporal Cloud has. Each
benchmark's stack registers its attributes at start, before any read, so the cache holds
them from the first.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from devstack.demo import SAMPLE_SELFIE
from devstack.stack import Child, DevStack
from onboarding_client.contract.request import OnboardingRequest

SEARCH_ATTRIBUTE_CACHE = (
    "--dynamic-config-value",
    "system.forceSearchAttributesCacheRefreshOnRead=false",
)


def queue_partitions(count: int) -> list[str]:
    """The server's arguments for `count` partitions of every task queue."""
    return [
        arg
        for key in ("matching.numTaskqueueReadPartitions", "matching.numTaskqueueWritePartitions")
        for arg in ("--dynamic-config-value", f"{key}={count}")
    ]


def approved_at_once(stack: DevStack) -> OnboardingRequest:
    """A request for a CPF that Unico approves at its create (one process-API call)."""
    return OnboardingRequest.model_validate(
        {
            "request_id": uuid.uuid4().hex,
            "subject": {"code": "12345678909", "name": "Maria Silva"},
            "selfie_ref": stack.selfies.put(SAMPLE_SELFIE.read_bytes()),
        }
    )


def bench_stack(state_dir: Path, **options: Any) -> DevStack:
    """`DevStack.on_free_ports`, with the server as production runs it in this respect."""
    options["temporal_args"] = (*SEARCH_ATTRIBUTE_CACHE, *options.get("temporal_args", ()))
    return DevStack.on_free_ports(state_dir, **options)


@asynccontextmanager
async def workers(stack: DevStack, count: int) -> AsyncIterator[list[Child]]:
    """`count` more `python -m worker` processes on `stack`, each polling before the block
    runs, and every one stopped after it, however it ends."""
    fleet = [stack.spawn_worker(f"worker-{n}") for n in range(count)]
    try:
        for worker in fleet:
            await asyncio.to_thread(worker.wait_ready)
        yield fleet
    finally:
        for worker in fleet:
            await asyncio.to_thread(worker.stop)

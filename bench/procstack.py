"""The whole stack as real processes on free loopback ports, for the benchmark and chaos.

`onboarding dev`'s supervisor starts the dev server (SQLite file), the sandbox, the gateway
and the worker; the bare workflow's worker joins as one more child. Every child is stopped
on exit, whatever happened.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from activities.selfies import SelfieStore
from bench.bare import TASK_QUEUE as BARE_QUEUE
from onboarding.client import connect
from onboarding.devstack import (
    DevPorts,
    DevStack,
    DevStackConfig,
    stack_environment,
    wait_for_log_line,
)
from onboarding.settings import Settings
from onboarding.temporal.connection import TemporalTarget
from tests.support import free_port


@dataclass
class ProcStack:
    dev: DevStack
    client: Client
    settings: Settings
    selfies: SelfieStore

    @property
    def sandbox_url(self) -> str:
        return self.settings.unico_api_url

    def pid(self, name: str) -> int:
        return self.dev.child(name).process.pid

    def sandbox(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.sandbox_url}/_sandbox/{path}", json=body)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict[str, Any]:
        return dict(self.sandbox("GET", "stats"))


@asynccontextmanager
async def proc_stack(
    work: Path, *, async_delay: float, env: Mapping[str, str] | None = None, bare: bool = False
) -> AsyncIterator[ProcStack]:
    ports = DevPorts(free_port(), free_port(), free_port(), free_port())
    config = DevStackConfig(state_dir=work / "state", ports=ports, async_delay_seconds=async_delay)
    saved = dict(os.environ)
    os.environ.update(env or {})  # stack_environment passes this process's environment on
    dev = DevStack(config)
    try:
        dev.start()
        environment = stack_environment(dev.config)
        if bare:
            dev.spawn("bare", [sys.executable, "-m", "bench.bare"], environment)
            wait_for_log_line(dev.children[-1], f"polling task queue {BARE_QUEUE!r}", 60)
        settings = Settings.model_validate(
            {key.lower(): value for key, value in environment.items() if key.isupper()}
        )
        client = await connect(settings, target=TemporalTarget.from_environment(environment))
        yield ProcStack(dev, client, settings, SelfieStore(settings.selfie_dir))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        dev.stop()

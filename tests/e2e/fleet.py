"""Real worker processes for the fleet tests: start, probe, scrape, stop.

It holds no tests. Each worker is `python -m worker` with the settings a deployment would
give it, its probes and its Prometheus endpoint on free loopback ports.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from onboarding.converter import data_converter
from onboarding.devstack import temporal_binary
from tests.support import LOOPBACK, fixed_keyring, free_port
from workflows.onboarding import OUTCOME_ATTRIBUTE, PROCESS_ATTRIBUTE, STAGE_ATTRIBUTE

STOP_TIMEOUT_SECONDS = 60


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    probes: str
    metrics: str
    log: Path

    @property
    def identity_prefix(self) -> str:
        """How the SDK names this worker in history events: `<pid>@<host>`."""
        return f"{self.process.pid}@"

    def probe(self, name: str) -> int:
        try:
            return httpx.get(f"{self.probes}/{name}", timeout=2).status_code
        except httpx.TransportError:
            return 0

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.probe("readyz") != 200:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker not ready: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def scrape(self) -> str:
        return httpx.get(f"{self.metrics}/metrics", timeout=5).text

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def stop(self) -> int:
        if self.process.poll() is None:
            self.terminate()
        return self.wait()


def start_worker(settings: dict[str, str], log: Path) -> WorkerProcess:
    probes, metrics = free_port(), free_port()
    # Only the Temporal settings given: none of the developer's profile or variables.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    env = {
        **inherited,
        **settings,
        "HEALTH_BIND_ADDRESS": f"{LOOPBACK}:{probes}",
        "METRICS_BIND_ADDRESS": f"{LOOPBACK}:{metrics}",
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    return WorkerProcess(
        process, f"http://{LOOPBACK}:{probes}", f"http://{LOOPBACK}:{metrics}", log
    )


async def local_temporal(extra_args: Sequence[str] = ()) -> WorkflowEnvironment:
    """A real-time dev server (no time skipping): worker processes see the real clock."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(temporal_binary()),
        search_attributes=[STAGE_ATTRIBUTE, OUTCOME_ATTRIBUTE, PROCESS_ATTRIBUTE],
        data_converter=data_converter(fixed_keyring()),
        ui=False,
        dev_server_extra_args=list(extra_args),
    )


def target(env: WorkflowEnvironment) -> str:
    return env.client.service_client.config.target_host


def max_in_any_window(times: Sequence[float], window: float = 1.0) -> int:
    """The most events inside any half-open window of `window` seconds."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, t in enumerate(ordered):
        while t - ordered[start] >= window:
            start += 1
        most = max(most, end - start + 1)
    return most

"""`onboarding demo`: one onboarding per scenario CPF, concurrently, with live progress."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from temporalio.client import Client

from onboarding.dev.scenarios import SCENARIOS, Scenario
from onboarding.runtime.settings import Settings
from onboarding.temporal.client import OnboardingHandle, start_onboarding, store_selfie
from workflows.models import OnboardingRequest, OnboardingResult, OnboardingStatus, Subject
from workflows.names import STATUS_QUERY

SAMPLE_SELFIE = files("onboarding") / "assets" / "sample-selfie.jpg"
DEMO_NAME = "Pessoa Demonstracao"


@dataclass(frozen=True)
class DemoRow:
    scenario: Scenario
    workflow_id: str
    result: OnboardingResult
    seconds: float

    @property
    def matches(self) -> bool:
        return self.result.outcome == self.scenario.expected

    def as_json(self) -> dict[str, Any]:
        return {
            "cpf": self.scenario.cpf,
            "expected": self.scenario.expected.value,
            "actual": self.result.outcome.value,
            "match": self.matches,
            "workflow_id": self.workflow_id,
            "process_id": self.result.process_id,
            "attempts": self.result.attempts,
            "seconds": round(self.seconds, 2),
        }


async def run_demo(
    client: Client, settings: Settings, progress: Callable[[str], None] | None
) -> list[DemoRow]:
    image = SAMPLE_SELFIE.read_bytes()
    run_id = time.strftime("%Y%m%d-%H%M%S")
    started = time.monotonic()

    def say(text: str) -> None:
        if progress:
            progress(f"[{time.monotonic() - started:6.1f}s] {text}")

    async def one(number: int, scenario: Scenario) -> DemoRow:
        selfie_ref = await store_selfie(settings, image)
        request = OnboardingRequest(
            # Never the CPF: the workflow id is stored in clear.
            request_id=f"demo-{run_id}-{number:02d}",
            subject=Subject(code=scenario.cpf, name=DEMO_NAME),
            selfie_ref=selfie_ref,
        )
        handle = await start_onboarding(client, request, settings.task_queue)
        say(f"{scenario.cpf} started {handle.id}")
        watcher = asyncio.create_task(_watch(handle, scenario.cpf, say))
        try:
            result = await handle.result()
        finally:
            watcher.cancel()
        mark = "ok" if result.outcome == scenario.expected else "MISMATCH"
        say(f"{scenario.cpf} -> {result.outcome.value} ({mark})")
        return DemoRow(scenario, handle.id, result, time.monotonic() - started)

    return list(await asyncio.gather(*(one(n, s) for n, s in enumerate(SCENARIOS, 1))))


async def _watch(handle: OnboardingHandle, cpf: str, say: Callable[[str], None]) -> None:
    """Print each stage change, as the `status` query reports it."""
    last: tuple[str, int | None] | None = None
    while True:
        try:
            status = await handle.query(STATUS_QUERY, result_type=OnboardingStatus)
        except Exception:
            status = None
        if status is not None:
            seen = (status.stage.value, status.unico_status)
            if seen != last:
                last = seen
                unico = f", Unico status {status.unico_status}" if status.unico_status else ""
                say(f"{cpf} {status.stage.value}{unico}")
        await asyncio.sleep(0.5)


def table(rows: list[DemoRow]) -> str:
    header = f"{'CPF':<12} {'expected':<16} {'actual':<16} {'match':<6} {'attempts':>8} {'s':>6}"
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.scenario.cpf:<12} {row.scenario.expected.value:<16} "
            f"{row.result.outcome.value:<16} {'yes' if row.matches else 'NO':<6} "
            f"{row.result.attempts:>8} {row.seconds:>6.1f}"
        )
    matched = sum(row.matches for row in rows)
    lines.append(f"{matched}/{len(rows)} scenarios reached their expected outcome")
    return "\n".join(lines)

"""How soon does a caller have the identity decision, against the whole workflow's result
and against calling Unico directly?

The clock starts just before update-with-start (`start_for_decision`) and reads twice, when
update `decision` answers and when the workflow's result comes (the selfie released, the run
closed). 12345678909 (Unico answers at once) and 00000000272 (Unico scores a second later and
says so by webhook), one at a time; and 12345678909 twenty at once. In the same run, on the
same sandbox, the direct call (a token, then the create: bench/direct.py) sets the floor:
the target is the sync decision within 1.3x its median, one at a time.

One at a time means each onboarding meets an idle stack: the next starts SETTLE_SECONDS
after the last one closed, and so does each direct call. Back to back (no pause) is reported
beside it: then each onboarding also meets the server's writes for the ones before it
(visibility, the closed run), which it works through one at a time, and the dispatch of
every task waits tens of milliseconds longer.

    python -m bench decision_time          # on a stack of its own, as `make run` stands up
    python -m bench.decision_time --running [N]   # against the `make run` already up
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

from temporalio.client import Client

from activities.unico import UnicoSettings
from bench.direct import onboard_all
from bench.result import BenchResult, spread
from bench.stack import bench_stack
from devstack.demo import SAMPLE_SELFIE
from devstack.stack import DevStack
from onboarding.cli.common import load_settings
from onboarding.runtime.entry import leave
from onboarding.temporal.client import connect, store_selfie
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.onboardings import start_for_decision

NAME = "decision_time"
ROUNDS = 20
CONCURRENT = 20
TARGET_RATIO = 1.3  # the sync decision's median, against the direct call's
SETTLE_SECONDS = 0.5  # between two onboardings "one at a time"
SYNC_CPF, ASYNC_CPF = "12345678909", "00000000272"

Store = Callable[[bytes], Awaitable[str]]


async def measure(
    client: Client, task_queue: str, store: Store, cpf: str, rounds: int, pause: float = 0.0
) -> dict[str, list[float]]:
    """Seconds from the start to the decision, and to the result, of each onboarding;
    `pause` seconds between one's result and the next one's start."""
    to_decision, to_result = [], []
    image = SAMPLE_SELFIE.read_bytes()
    for _ in range(rounds):
        request = OnboardingRequest.model_validate(
            {
                "request_id": f"bench-decision-{uuid.uuid4().hex[:12]}",
                "subject": {"code": cpf, "name": "Pessoa Bench"},
                "selfie_ref": await store(image),
            }
        )
        started = time.perf_counter()
        handle, _decision = await start_for_decision(client, request, task_queue)
        to_decision.append(time.perf_counter() - started)
        await handle.result()
        to_result.append(time.perf_counter() - started)
        await asyncio.sleep(pause)
    return {"to_decision": to_decision, "to_result": to_result}


def report(cpf: str, times: dict[str, list[float]]) -> tuple[dict[str, object], list[str]]:
    decision, result = spread(times["to_decision"]), spread(times["to_result"])
    figures: dict[str, object] = {"n": len(times["to_decision"]), "decision": decision}
    figures["result"] = result
    lines = [
        f"{cpf}: n={figures['n']}  median decision {decision['median']:.3f} s, "
        f"result {result['median']:.3f} s (p95 {decision['p95']:.3f} / {result['p95']:.3f})"
    ]
    return figures, lines


async def concurrently(
    client: Client, task_queue: str, store: Store, cpf: str, n: int
) -> dict[str, list[float]]:
    """`n` callers at once, each timing its own onboarding."""
    runs = await asyncio.gather(*(measure(client, task_queue, store, cpf, 1) for _ in range(n)))
    return {key: [t for r in runs for t in r[key]] for key in ("to_decision", "to_result")}


async def direct_seconds(stack: DevStack, rounds: int) -> list[float]:
    """A token and a create, straight at the sandbox, one at a time."""
    image = SAMPLE_SELFIE.read_bytes()
    seconds = []
    for n in range(rounds):
        [(_cpf, started, finished)] = await onboard_all(
            stack.settings_of(UnicoSettings), [SYNC_CPF], image, 0.1, first=n
        )
        seconds.append(finished - started)
        await asyncio.sleep(SETTLE_SECONDS)
    return seconds


async def run(work: Path) -> BenchResult:
    # The fleet's Unico budget (5 calls/s by default) would time the budget's queue at 20
    # at once, not the path to a decision: lifted, as the throughput bench does.
    settings = {"UNICO_REQUESTS_PER_SECOND": "1000"}
    async with bench_stack(work, async_delay_seconds=1.0, settings=settings) as stack:

        async def store(image: bytes) -> str:
            return stack.selfies.put(image)

        client, queue = stack.client, stack.settings.task_queue
        figures: dict[str, object] = {}
        lines = ["seconds from update-with-start to the decision, and to the result"]
        await measure(client, queue, store, SYNC_CPF, 3)  # warm: the worker's token cache
        direct = await direct_seconds(stack, ROUNDS)
        figures["direct"] = spread(direct)
        lines.append(f"direct token + create: median {statistics.median(direct):.3f} s")
        for cpf in (SYNC_CPF, ASYNC_CPF):
            times = await measure(client, queue, store, cpf, ROUNDS, SETTLE_SECONDS)
            figures[cpf], more = report(cpf, times)
            lines += more
            if cpf == SYNC_CPF:
                sync_decision = statistics.median(times["to_decision"])
        back_to_back = await measure(client, queue, store, SYNC_CPF, ROUNDS)
        figures[f"{SYNC_CPF} back to back"], more = report(f"{SYNC_CPF} back to back", back_to_back)
        lines += more
        at_once = await concurrently(client, queue, store, SYNC_CPF, CONCURRENT)
        figures[f"{SYNC_CPF} x{CONCURRENT}"], more = report(f"{SYNC_CPF} x{CONCURRENT}", at_once)
        lines += more
    ratio = sync_decision / statistics.median(direct)
    figures["sync_decision_over_direct"] = round(ratio, 2)
    lines.append(f"sync decision / direct call: {ratio:.2f}x")
    lines.append(
        f"target: the sync decision within {TARGET_RATIO:g}x the direct call, one at a time"
    )
    return BenchResult(NAME, figures, lines, target_met=ratio <= TARGET_RATIO)


async def against_running(rounds: int) -> int:
    settings = load_settings()
    client = await connect(settings)

    async def store(image: bytes) -> str:
        return await store_selfie(settings, image)

    times = await measure(client, settings.task_queue, store, SYNC_CPF, rounds)
    _, lines = report(SYNC_CPF, times)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.decision_time")
    parser.add_argument("--running", action="store_true", help="against the `make run` stack")
    parser.add_argument("rounds", nargs="?", type=int, default=ROUNDS)
    args = parser.parse_args()
    if not args.running:
        parser.error("without --running, run it as `python -m bench decision_time`")
    leave(asyncio.run(against_running(args.rounds)))

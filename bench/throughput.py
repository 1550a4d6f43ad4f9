"""Throughput and cost: ours against the engine's own limit and against direct calls.

One stack of real processes on loopback (dev server, sandbox, gateway with Unico's
webhook, our worker, and a worker for the bare workflow). For each N, four variants run
the same mix of synchronous and asynchronous scenario CPFs, one after the other:

- ours: N onboardings through the whole stack;
- engine: the floor, N bare workflows with the least commands the job needs (a create; for
  an asynchronous CPF a timer, the webhook's signal and one read) whose create and read make
  the same calls to the same sandbox, and nothing more (bench/bare.py); the target is ours
  against it;
- noop: the same workflows with bodies that do nothing: Temporal's own limit here;
- direct: an asyncio + httpx script against the same sandbox (bench/direct.py).

The floor's signal comes from its own worker when the sandbox would send the webhook, the
delay after the create answered (bench/bare.py); the sandbox's webhooks are off while the
floor and direct run (they would find no onboarding of
ours, and their retries would spill into the next variant's run).

At the largest N, noop and direct run once, and ours and the floor run as pairs, back to
back, the order reversed every other pair, until CLEAN_PAIRS pairs ran with the host taking
no more than MAX_STOLEN_PCT of the CPU (steal, from /proc/stat) from either side, or
MAX_PAIRS ran; ours/engine there is the median of the clean pairs' own ratios
(`report.paired_ratio`), the target's figure. Latency is start to result, minus the
sandbox's delay for an asynchronous CPF. CPU and peak RSS are the worker's (ours: the
onboarding worker; engine: the bare one; direct: this process, which then runs nothing
else).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from activities.unico import UnicoSettings
from bench import direct
from bench.bare import TASK_QUEUE as BARE_QUEUE
from bench.bare import start_bare_worker
from bench.plot import plot
from bench.procfs import cpu_seconds, host_ticks, peak_rss_mib, reset_peak_rss, stolen_pct
from bench.report import Round, markdown, paired_ratio, ratios, undisturbed
from bench.result import BenchResult
from bench.server_ops import ServerCounters, differences, per_onboarding
from bench.stack import bench_stack
from devstack.demo import SAMPLE_SELFIE
from devstack.scenarios import SCENARIOS
from devstack.stack import DevStack, free_port
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.onboardings import start_onboarding

NAME = "throughput"
DELAY_SECONDS = 1.0  # the sandbox's processing time for an asynchronous CPF
POLL_SECONDS = 2.0  # ours: the webhook usually ends the first wait; direct polls this often
NS = (20, 60, 150)
WARM_UP = 8
TARGET = 0.9  # ours/engine at the largest N
# At the largest N, ours and the floor run in pairs, and the target is met on the median of
# the pairs' ratios: one run on two shared cores swings by a tenth either way, and more when
# another guest of the host takes CPU (up to a fifth of it, seen in a run), which no figure
# of ours can tell from our own cost. A pair in which the host took more is run again.
CLEAN_PAIRS = 5
MAX_PAIRS = 10
MAX_STOLEN_PCT = 5.0
# Up to MAX_PAIRS pairs of N=150 at 5-7 onboardings/s when the host is busy: ten minutes
# and more on two shared cores.
TIMEOUT_SECONDS = 1500
# Half synchronous (answered by create), half asynchronous (final after the delay).
CPFS = ("12345678909", "00000000272", "00000000191", "00000000353")
SYNC = {"12345678909", "00000000191"}
EXPECTED = {s.cpf: s.expected for s in SCENARIOS}
# The fleet's Unico budget (5 calls/s by default) would measure Unico's limit, not ours:
# lifted here; bench/fleet_rate_limit.py measures the limit itself.
UNLIMITED = {"UNICO_REQUESTS_PER_SECOND": "1000"}

Timing = tuple[str, float, float]  # cpf, started, finished (monotonic seconds)
Runner = Callable[[DevStack, list[str]], Awaitable[list[Timing]]]


async def run(work: Path) -> BenchResult:
    rows: list[dict[str, Any]] = []
    # As `make run` serves it: the server on a SQLite file, with its Web UI; and its
    # counters served, to count what each variant asks of it (bench/server_ops.py).
    options = {"async_delay_seconds": DELAY_SECONDS, "settings": UNLIMITED}
    server = ServerCounters(free_port())
    options |= {"database": True, "ui": True, "temporal_args": server.args}
    async with bench_stack(work / "state", **options) as stack:
        start_bare_worker(stack)
        variants: dict[str, tuple[Runner, int]] = {
            "engine": (_floor, stack.pid("bare")),
            "noop": (_noop, stack.pid("bare")),
            "ours": (_ours, stack.pid("worker")),
            "direct": (_direct, os.getpid()),
        }
        warm_up_tokens = 0
        for variant, (runner, _) in variants.items():  # warm-up: connections, imports, caches
            tokens_before = stack.sandbox.stats()["token_requests"]
            await runner(stack, _mix(WARM_UP))
            if variant == "ours":  # the worker's first token: part of its whole-run count
                warm_up_tokens = stack.sandbox.stats()["token_requests"] - tokens_before
        for n in NS[:-1]:
            for variant, (runner, pid) in variants.items():
                rows.append(await _measure(stack, server, variant, runner, pid, n))
        rows += await _largest(stack, server, variants)
    table = markdown(rows)
    by_n = ratios(rows)
    paired = paired_ratio(rows, MAX_STOLEN_PCT)
    by_n[max(NS)]["ours/engine"] = paired.ratio
    out = work / "throughput.md"
    out.write_text("\n".join([*table, "", json.dumps(by_n)]) + "\n")
    png = work / "throughput.png"
    plot(rows, png)
    largest = by_n[max(NS)]
    ops = {row["variant"]: row["server_ops"] for row in rows if row.get("pair") == 0}
    ours = [row for row in rows if row["variant"] == "ours"]
    tokens = warm_up_tokens + sum(r["calls"]["token"] for r in ours)
    onboarded = WARM_UP + sum(r["n"] for r in ours)
    lines = [
        f"sandbox delay {DELAY_SECONDS:g} s, poll every {POLL_SECONDS:g} s, webhooks on; "
        f"CPFs {', '.join(CPFS)} (half async)",
        *table,
        *(f"N={n}: " + "  ".join(f"{k} {v:.2f}" for k, v in r.items()) for n, r in by_n.items()),
        f"N={max(NS)}: {paired.describe(MAX_STOLEN_PCT)}",
        f"ours, whole run (one worker): {tokens} token call(s) for {onboarded} onboardings",
        f"N={max(NS)}, the server's counters per onboarding where ours and the floor differ "
        "(first pair):",
        *differences(ops["ours"], ops["engine"]),
    ]
    return BenchResult(
        NAME,
        {
            "rows": rows,
            "ratios": {str(n): r for n, r in by_n.items()},
            "pairs": {"each": paired.each, "clean": paired.clean, "ratio": paired.ratio},
            "server_ops": ops,
        },
        lines,
        target_met=largest.get("ours/engine", 0) >= TARGET,
        files=[out, png],
    )


async def _largest(
    stack: DevStack, server: ServerCounters, variants: dict[str, tuple[Runner, int]]
) -> list[dict[str, Any]]:
    """The largest N: the references once, then ours and the floor in pairs (module doc)."""
    n = max(NS)
    rows = [await _measure(stack, server, v, *variants[v], n) for v in ("noop", "direct")]
    clean = 0
    for pair in range(MAX_PAIRS):
        order = ["ours", "engine"] if pair % 2 else ["engine", "ours"]
        runs = [await _measure(stack, server, v, *variants[v], n) | {"pair": pair} for v in order]
        rows += runs
        clean += undisturbed(runs, MAX_STOLEN_PCT)
        if clean == CLEAN_PAIRS:
            break
    return rows


def _mix(n: int) -> list[str]:
    return [CPFS[i % len(CPFS)] for i in range(n)]


async def _measure(
    stack: DevStack, server: ServerCounters, variant: str, runner: Runner, pid: int, n: int
) -> dict[str, Any]:
    # Counters as deltas, no reset: a reset would also void the worker's cached token.
    before = stack.sandbox.stats()
    ops_before = server.read()
    host_before = host_ticks()
    reset_peak_rss(pid)
    cpu_before = cpu_seconds(pid)
    others = {name: stack.pid(name) for name in ("temporal", "sandbox")}
    others_before = {name: cpu_seconds(p) for name, p in others.items()}
    began = time.monotonic()
    timings = await runner(stack, _mix(n))
    wall = time.monotonic() - began
    cpu = cpu_seconds(pid) - cpu_before
    # Where else the time goes, to explain the throughput (two cores share everything).
    elsewhere = {name: cpu_seconds(p) - others_before[name] for name, p in others.items()}
    stats = stack.sandbox.stats()
    ops = per_onboarding(ops_before, server.read(), n)
    extra = [end - start - (0 if cpf in SYNC else DELAY_SECONDS) for cpf, start, end in timings]
    calls = {
        name: stats[f"{name}_requests"] - before[f"{name}_requests"]
        for name in ("token", "create", "get")
    }
    n_async = sum(cpf not in SYNC for cpf, _, _ in timings)
    row = Round(variant, n, n_async, wall, extra, calls, cpu, peak_rss_mib(pid)).figures()
    row["server_cpu_ms_per_onboarding"] = round(1000 * elsewhere["temporal"] / n, 2)
    row["sandbox_cpu_ms_per_onboarding"] = round(1000 * elsewhere["sandbox"] / n, 2)
    row["host_stolen_pct"] = stolen_pct(host_before, host_ticks())
    row["server_ops"] = ops
    print(
        f"  {variant:<6} N={n:<4} {row['throughput_per_s']:7.2f}/s"
        f"  (host stolen {row['host_stolen_pct']:.1f} %)",
        flush=True,
    )
    return row


async def _timed(cpf: str, work: Awaitable[Any]) -> Timing:
    started = time.monotonic()  # the coroutine starts only when awaited, here
    await work
    return cpf, started, time.monotonic()


async def _ours(stack: DevStack, cpfs: list[str]) -> list[Timing]:
    image, selfies = SAMPLE_SELFIE.read_bytes(), stack.selfies

    async def one(cpf: str) -> None:
        selfie_ref = selfies.put(image)  # each onboarding releases its own at the end
        request = OnboardingRequest.model_validate(
            {
                "request_id": f"bench-{uuid.uuid4().hex[:12]}",
                "subject": {"code": cpf, "name": "Pessoa Bench"},
                "selfie_ref": selfie_ref,
                "options": {"poll_initial_seconds": POLL_SECONDS, "poll_max_seconds": POLL_SECONDS},
            }
        )
        handle = await start_onboarding(stack.client, request, stack.settings.task_queue)
        result: OnboardingResult = await handle.result()
        if result.outcome != EXPECTED[cpf]:  # a fast wrong answer is no throughput
            raise AssertionError(f"{cpf}: {result.outcome}, expected {EXPECTED[cpf]}")

    return await asyncio.gather(*(_timed(c, one(c)) for c in cpfs))


async def _floor(stack: DevStack, cpfs: list[str]) -> list[Timing]:
    async with _no_webhooks(stack):
        return await _bare(stack, cpfs, calls=True)


async def _noop(stack: DevStack, cpfs: list[str]) -> list[Timing]:
    return await _bare(stack, cpfs, calls=False)


async def _bare(stack: DevStack, cpfs: list[str], *, calls: bool) -> list[Timing]:
    async def one(cpf: str) -> Any:
        asynchronous = cpf not in SYNC
        handle = await stack.client.start_workflow(
            "BareOnboarding",
            args=[cpf, asynchronous, DELAY_SECONDS, calls],
            id=f"bare-{uuid.uuid4().hex[:12]}",
            task_queue=BARE_QUEUE,
        )
        return await handle.result()  # its worker sends the webhook (bench/bare.py)

    return await asyncio.gather(*(_timed(c, one(c)) for c in cpfs))


async def _direct(stack: DevStack, cpfs: list[str]) -> list[Timing]:
    async with _no_webhooks(stack):
        image = SAMPLE_SELFIE.read_bytes()
        return await direct.onboard_all(stack.settings_of(UnicoSettings), cpfs, image, POLL_SECONDS)


@contextlib.asynccontextmanager
async def _no_webhooks(stack: DevStack) -> AsyncIterator[None]:
    """For a variant that is not ours: no onboarding of ours carries its processes, so each
    webhook would meet 503s and be retried for seconds, into the next variant's run."""
    stack.sandbox.webhooks(enabled=False)
    try:
        yield
    finally:
        stack.sandbox.webhooks(enabled=True)

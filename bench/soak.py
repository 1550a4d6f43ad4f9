"""`make soak`: the whole journey for a long while on the real stack, with faults mixed in.

    python -m bench.soak [--minutes 20] [--window 5] [--tenant-rate 3] [--load 0.8]

One stack of real processes (devstack/stack.py, the server on its SQLite file as in
production), the sandbox holding Unico's tenant to `--tenant-rate` process-API requests a
second and the fleet told 95 % of it (docs/operations.md). Onboardings start at a steady
pace that asks Unico for `--load` of the tenant's budget, in a fixed cycle of the journey's
paths (the same mix in every window): the sync and webhook paths, rejections, a recapture,
reviews answered in the reviewers' console (one with four eyes: a reviewer approves, a
senior confirms), accounts registered in Identity Cloud, and phones enrolled with Guardian,
the person typing the code of the SMS. Each path's result must be the one its CPF and its
options imply.

Every window meets the same faults, evenly spaced: 5xx from Unico, 429 with Retry-After,
answers dropped (Unico and Guardian), 5xx from Identity Cloud and Guardian; and the first
window, in its middle, a kill -9 of the worker, so that every process the memory check
compares has run a whole window before.

It prints, per window: onboardings finished, outcomes as expected, decision latency (the
early decision's answer) p50/p95, Unico calls a second and the tenant's 429s, worker and
server RSS (medians of samples every 10 s), history events per onboarding (every 5th
onboarding's), selfies and sealed evidence in the store. It exits 1 on a lost onboarding
(not ended within ONBOARDING_BOUND), an outcome that differs, a selfie or evidence left
behind by an ended onboarding, memory grown more than 10 % from the second window to the
last, or the last window's latency p95 more than 1.5 times the second's.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from activities.guardian.enrollments import e164
from activities.selfies.local_store import EVIDENCE
from bench.chaos_mfa import Person, play
from bench.procfs import anonymous_rss_mib, rss_mib
from bench.stack import queue_partitions
from devstack.console_client import REVIEWER, SENIOR_REVIEWER, ConsoleUser
from devstack.demo import SAMPLE_SELFIE
from devstack.history import events_of
from devstack.stack import DevStack
from devstack.watch import until_stage
from onboarding.runtime.entry import leave
from onboarding_client.contract.cpf import cpf_with_check_digits
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import AccountStatus, MfaStatus, OnboardingResult
from onboarding_client.contract.status import Stage
from onboarding_client.onboardings import OnboardingHandle, start_for_decision

# The tenant's limit the sandbox holds: Unico's is about 10/s, which at 80 % takes some 5
# onboardings a second of the whole journey, more than two shared cores can run beside the
# server; at 3/s the soak measures the product, not a saturated host. `--tenant-rate 10` on
# a bigger one.
TENANT_RATE = 3.0
UNICO_DELAY_SECONDS = 5.0  # Unico's scoring, as `make run` has it
ONBOARDING_BOUND = 300.0  # an onboarding not ended this long after its start is lost
SAMPLE_EVERY_SECONDS = 10.0
HISTORY_SAMPLE = 5  # every 5th onboarding's history is read (each read costs the server)
# The server's cache of workflows' state, bounded as a cluster sizes it to its memory: its
# default bound is hundreds of thousands of workflows, ended ones included, so the server's
# memory grows with every onboarding far beyond a soak's length (docs/benchmarks.md).
SERVER_CACHE = ("--dynamic-config-value", "history.hostLevelCacheMaxSize=500")
FLEET_SHARE = 0.95  # of the tenant's limit, the fleet's (docs/operations.md)
MEMORY_GROWTH = 1.10
LATENCY_GROWTH = 1.5


# The journey's paths in the order they start, each with its Unico calls (for the pace).
PATHS: tuple[tuple[str, int], ...] = (
    ("sync", 1),  # 12345678909: approved at once
    ("webhook", 2),  # 00000000272: scored, approved
    ("rejected", 1),  # 00000000191: unicoId no
    ("rejected after score", 2),  # 00000000434: score -50
    ("recapture", 2),  # 00000000515: score 0
    ("review", 2),  # 00000000353: answered in the console
    ("four eyes", 2),  # 00000001244: approved, confirmed by a senior
    ("account", 1),  # a new person, registered in Identity Cloud
    ("mfa", 1),  # approved, phone enrolled with the code of the SMS
)
CPF = {
    "sync": "12345678909",
    "webhook": "00000000272",
    "rejected": "00000000191",
    "rejected after score": "00000000434",
    "recapture": "00000000515",
    "review": "00000000353",
    "four eyes": "00000001244",
    "mfa": "12345678909",
}


@dataclass
class Onboarding:
    path: str
    request_id: str
    selfie_ref: str
    started: float  # seconds into the soak
    decided: float | None = None  # seconds from start to the decision's answer
    ended: float | None = None
    as_expected: bool = False
    outcome: str | None = None
    selfie_left: bool = False
    events: int | None = None
    note: str = ""


@dataclass
class Sample:
    at: float
    worker_mib: float
    server_mib: float
    server_anon_mib: float
    selfies: int
    evidence: int


@dataclass
class Soak:
    stack: DevStack
    began: float
    reviewer: ConsoleUser
    senior: ConsoleUser
    onboardings: list[Onboarding] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.began


# --- one onboarding, played to its end ------------------------------------------------------


def request_for(path: str, n: int, selfie_ref: str) -> OnboardingRequest:
    options: dict[str, Any] = {}
    subject: dict[str, str] = {"code": CPF.get(path, ""), "name": "Pessoa Soak"}
    if path in ("review", "four eyes"):
        options["review"] = {"enabled": True}
    elif path == "account":
        subject["code"] = cpf_with_check_digits(f"{800_000_000 + n * 7919:09d}")
        subject["email"] = f"soak.{n}@example.com"
        options["account"] = {"register": True}
    elif path == "mfa":
        subject["phone"] = f"11955{n:06d}"
        options["mfa"] = {"enroll": True, "user_id": f"auth0|soak-{n}", "deadline_seconds": 600}
    return OnboardingRequest.model_validate(
        {
            "request_id": f"soak-{uuid.uuid4().hex[:12]}",
            "subject": subject,
            "selfie_ref": selfie_ref,
            "options": options,
        }
    )


def expected(path: str, result: OnboardingResult) -> bool:
    """Whether the result is the one the path's CPF and options imply."""
    outcome = str(result.outcome)
    if path in ("rejected", "rejected after score"):
        return outcome == "rejected"
    if path == "recapture":
        return outcome == "recapture"
    if outcome != "approved":
        return False
    if path == "review":
        return result.review is not None and result.review.reviewer == REVIEWER[0]
    if path == "four eyes":
        review = result.review
        return (
            review is not None
            and review.reviewer == SENIOR_REVIEWER[0]
            and review.first_review is not None
            and review.first_review.reviewer == REVIEWER[0]
        )
    if path == "account":
        return result.account is not None and result.account.status is AccountStatus.REGISTERED
    if path == "mfa":
        return result.mfa is not None and result.mfa.status is MfaStatus.ENROLLED
    return True


async def answer_in_console(soak: Soak, handle: OnboardingHandle, onboarding: Onboarding) -> None:
    """The reviewer (and for four eyes, the senior after her) answers, as in the console."""
    await until_stage(handle, Stage.AWAITING_REVIEW, seconds=None, poll=0.5)
    await soak.reviewer.answer(onboarding.request_id, "approved", "documents.match")
    if onboarding.path == "four eyes":
        await soak.senior.answer(onboarding.request_id, "approved", "identity.confirmed_by_call")


async def play_onboarding(soak: Soak, path: str, n: int) -> None:
    stack = soak.stack
    selfie_ref = stack.selfies.put(SAMPLE_SELFIE.read_bytes())
    request = request_for(path, n, selfie_ref)
    onboarding = Onboarding(path, request.request_id, selfie_ref, soak.now())
    soak.onboardings.append(onboarding)
    try:
        async with asyncio.timeout(ONBOARDING_BOUND):
            handle, _ = await start_for_decision(stack.client, request, stack.settings.task_queue)
            onboarding.decided = soak.now() - onboarding.started
            if path in ("review", "four eyes"):
                await answer_in_console(soak, handle, onboarding)
            elif path == "mfa":
                phone = e164(request.subject.phone or "")
                await play(stack, Person(handle, request.request_id, phone))
            result = await handle.result()
    except TimeoutError:
        onboarding.note = "lost: not ended in time"
        return
    except Exception as exc:  # the soak goes on; the onboarding counts as differing
        onboarding.note = f"{type(exc).__name__}: {exc}"[:200]
        onboarding.ended = soak.now()
        return
    onboarding.ended = soak.now()
    onboarding.outcome = str(result.outcome)
    onboarding.as_expected = expected(path, result)
    onboarding.selfie_left = stack.selfies.exists(selfie_ref)
    if n % HISTORY_SAMPLE == 0:
        onboarding.events = len(await events_of(handle))


# --- the load, the faults and the samples ---------------------------------------------------


def pace(tenant_rate: float, load: float) -> float:
    """Seconds between starts, so that the mix asks Unico for `load` of the tenant's rate."""
    calls_per_onboarding = sum(calls for _, calls in PATHS) / len(PATHS)
    return calls_per_onboarding / (tenant_rate * load)


async def start_onboardings(soak: Soak, until: float, interval: float) -> list[asyncio.Task[None]]:
    tasks = []
    for n in itertools.count():
        due = n * interval
        if due >= until:
            break
        await asyncio.sleep(max(0.0, due - soak.now()))
        path = PATHS[n % len(PATHS)][0]
        tasks.append(asyncio.create_task(play_onboarding(soak, path, n)))
    return tasks


Fault = Callable[[DevStack], Awaitable[str]]


def rules(label: str, *injected: dict[str, Any]) -> Fault:
    async def act(stack: DevStack) -> str:
        stack.sandbox.inject(*injected)
        return label

    return act


async def kill_worker(stack: DevStack) -> str:
    await asyncio.to_thread(stack.restart_child, "worker", hard=True)
    await asyncio.to_thread(stack.child("worker").wait_ready)
    return "worker killed (-9) and started again"


FAULTS: tuple[Fault, ...] = (
    rules(
        "Unico 5xx",
        {"endpoint": "create", "times": 3, "status": 503},
        {"endpoint": "get", "times": 3, "status": 500},
    ),
    rules(
        "Unico 429 with Retry-After",
        {"endpoint": "create", "times": 5, "status": 429, "retry_after": 1},
        {"endpoint": "get", "times": 5, "status": 429, "retry_after": 1},
    ),
    rules(
        "answers dropped (Unico, Guardian)",
        {"endpoint": "get", "times": 2, "drop_connection": True},
        {"endpoint": "create", "times": 1, "drop_connection": True},
        {"endpoint": "verify-otp", "times": 1, "drop_connection": True},
    ),
    rules(
        "Identity Cloud and Guardian 5xx",
        {"endpoint": "entity.create", "times": 2, "code": 510},
        {"endpoint": "sms-enroll", "times": 2, "status": 503},
    ),
)


def fault_schedule(length: float, width: float) -> list[tuple[float, Fault]]:
    """Every window meets each fault once, evenly spaced, so that windows compare; the first
    also the worker's kill, in its middle."""
    spacing = width / len(FAULTS)
    plan = [
        (low + (k + 0.5) * spacing, fault)
        for low in itertools.takewhile(lambda t: t < length, itertools.count(0.0, width))
        for k, fault in enumerate(FAULTS)
    ]
    plan.append((width / 2, kill_worker))
    return sorted(((at, fault) for at, fault in plan if at < length), key=lambda p: p[0])


async def sprinkle_faults(soak: Soak, plan: list[tuple[float, Fault]]) -> None:
    for at, fault in plan:
        await asyncio.sleep(max(0.0, at - soak.now()))
        label = await fault(soak.stack)
        soak.faults.append(f"{soak.now():6.0f} s  {label}")


def store_counts(stack: DevStack) -> tuple[int, int]:
    """Selfies (captures and images) and sealed evidence the store holds now."""
    root = stack.selfies.root
    selfies = sum(1 for entry in root.iterdir() if entry.is_file())
    evidence_dir = root / EVIDENCE
    evidence = sum(1 for _ in evidence_dir.iterdir()) if evidence_dir.is_dir() else 0
    return selfies, evidence


async def take_samples(soak: Soak) -> None:
    while True:
        # A worker between its kill and its start: gone, or a zombie without an RSS.
        with contextlib.suppress(OSError, LookupError, StopIteration):
            worker, server = soak.stack.pid("worker"), soak.stack.pid("temporal")
            selfies, evidence = store_counts(soak.stack)
            soak.samples.append(
                Sample(
                    soak.now(),
                    rss_mib(worker),
                    rss_mib(server),
                    anonymous_rss_mib(server),
                    selfies,
                    evidence,
                )
            )
        await asyncio.sleep(SAMPLE_EVERY_SECONDS)


# --- the windows and the verdict -------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def windows(
    onboardings: list[Onboarding], samples: list[Sample], minutes: float, window_minutes: float
) -> list[dict[str, Any]]:
    """A row per window: the onboardings that ended in it (the drain's in the last), the
    decisions answered in it and the samples taken in it."""
    count = max(1, round(minutes / window_minutes))
    width = window_minutes * 60
    rows = []
    for w in range(count):
        low, high = w * width, (w + 1) * width
        last = w == count - 1  # the drain's endings count in the last window

        def inside(at: float, low: float = low, high: float = high, last: bool = last) -> bool:
            return low <= at and (last or at < high)

        ended = [o for o in onboardings if o.ended is not None and inside(o.ended)]
        decided = [
            o.decided
            for o in onboardings
            if o.decided is not None and inside(o.started + o.decided)
        ]
        taken = [s for s in samples if low <= s.at < high]
        events = [o.events for o in ended if o.events is not None]
        rows.append(
            {
                "window": w + 1,
                "minutes": f"{low / 60:.0f}-{high / 60:.0f}",
                "started": sum(low <= o.started < high for o in onboardings),
                "finished": len(ended),
                "as_expected": sum(o.as_expected for o in ended),
                "differ": sum(not o.as_expected for o in ended),
                "decision_p50_s": percentile(decided, 0.5),
                "decision_p95_s": percentile(decided, 0.95),
                "worker_rss_mib": median([s.worker_mib for s in taken]),
                "server_rss_mib": median([s.server_mib for s in taken]),
                "server_anon_mib": median([s.server_anon_mib for s in taken]),
                "events_per_onboarding": round(statistics.mean(events), 1) if events else None,
                "events_max": max(events) if events else None,
                "selfies_in_store": max((s.selfies for s in taken), default=None),
                "evidence_in_store": max((s.evidence for s in taken), default=None),
            }
        )
    return rows


def unico_rates(stack: DevStack, began: float, rows: list[dict[str, Any]], width: float) -> int:
    """Each window's Unico calls a second, from the sandbox's arrival times (its clock is
    this machine's monotonic one, as `began` is); returns the calls the tenant's limit
    refused in all."""
    seen = stack.sandbox.rate_limit()
    arrivals = sorted(seen["arrivals"])
    for row in rows:
        low = began + (row["window"] - 1) * width
        row["unico_calls_per_s"] = round(sum(low <= t < low + width for t in arrivals) / width, 2)
    refused: int = seen["refused"]
    return refused


def verdict(
    onboardings: list[Onboarding], rows: list[dict[str, Any]], selfies: int, evidence: int
) -> list[str]:
    """Every reason the soak failed; empty when it passed."""
    failed = []
    lost = [o for o in onboardings if o.ended is None]
    if lost:
        failed.append(f"{len(lost)} onboarding(s) lost (not ended in {ONBOARDING_BOUND:.0f} s)")
    differ = [o for o in onboardings if o.ended is not None and not o.as_expected]
    if differ:
        failed.append(f"{len(differ)} outcome(s) differ from the expected")
    left = sum(o.selfie_left for o in onboardings)
    if left or selfies or evidence:
        failed.append(
            f"left behind: {left} selfie(s) of ended onboardings; at the end the store held "
            f"{selfies} selfie(s) and {evidence} evidence"
        )
    if len(rows) >= 3:
        second, final = rows[1], rows[-1]
        for key in ("worker_rss_mib", "server_rss_mib"):
            if second[key] and final[key] and final[key] > MEMORY_GROWTH * second[key]:
                failed.append(f"{key}: {second[key]:.0f} -> {final[key]:.0f} MiB (> +10 %)")
        p95, last_p95 = second["decision_p95_s"], final["decision_p95_s"]
        if p95 and last_p95 and last_p95 > LATENCY_GROWTH * p95:
            failed.append(f"decision p95: {p95:.2f} -> {last_p95:.2f} s (> 1.5x)")
    return failed


def table(rows: list[dict[str, Any]]) -> list[str]:
    def cell(value: Any, digits: int = 1) -> str:
        if value is None:
            return "-"
        return f"{value:.{digits}f}" if isinstance(value, float) else str(value)

    head = (
        "| window (min) | started | finished | as expected | differ | decision p50 s | "
        "p95 s | Unico calls/s | worker RSS MiB | server RSS (anon) MiB | events/onb (max) | "
        "selfies | evidence |"
    )
    lines = [head, "|" + "---|" * 13]
    for r in rows:
        lines.append(
            f"| {r['minutes']} | {r['started']} | {r['finished']} | {r['as_expected']} | "
            f"{r['differ']} | {cell(r['decision_p50_s'], 2)} | {cell(r['decision_p95_s'], 2)} | "
            f"{cell(r['unico_calls_per_s'], 2)} | {cell(r['worker_rss_mib'])} | "
            f"{cell(r['server_rss_mib'])} ({cell(r['server_anon_mib'])}) | "
            f"{cell(r['events_per_onboarding'])} ({cell(r['events_max'])}) | "
            f"{cell(r['selfies_in_store'])} | "
            f"{cell(r['evidence_in_store'])} |"
        )
    return lines


async def main(minutes: float, window: float, tenant_rate: float, load: float, out: Path) -> int:
    tenant = ("--tenant-rate-limit", str(tenant_rate), "--tenant-rate-burst", str(tenant_rate))
    interval = pace(tenant_rate, load)
    print(
        f"soak: {minutes:g} min, windows of {window:g} min; the tenant held to "
        f"{tenant_rate:g}/s, the fleet told {FLEET_SHARE * tenant_rate:g}/s; a start every "
        f"{interval:.3f} s ({load:.0%} of the budget)",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="soak-") as work:
        options = {
            "async_delay_seconds": UNICO_DELAY_SECONDS,
            "sandbox_args": tenant,
            "temporal_args": (*queue_partitions(1), *SERVER_CACHE),
            # The server's SQLite on a file, as any server keeps its data outside its memory:
            # in memory (the tests' default) every history stays in the server's RSS.
            "database": True,
            "settings": {"UNICO_REQUESTS_PER_SECOND": str(FLEET_SHARE * tenant_rate)},
        }
        async with (
            DevStack.on_free_ports(Path(work), **options) as stack,
            ConsoleUser(stack.console_url) as reviewer,
            ConsoleUser(stack.console_url) as senior,
        ):
            await reviewer.log_in(*REVIEWER)
            await senior.log_in(*SENIOR_REVIEWER)
            soak = Soak(stack, time.monotonic(), reviewer, senior)
            length = minutes * 60
            sampler = asyncio.create_task(take_samples(soak))
            plan = fault_schedule(length, window * 60)
            faults = asyncio.create_task(sprinkle_faults(soak, plan))
            tasks = await start_onboardings(soak, length, interval)
            print(f"  {len(tasks)} started; waiting for the last to end", flush=True)
            await asyncio.gather(*tasks)
            await faults
            sampler.cancel()
            stack.sandbox.clear_faults()
            selfies, evidence = store_counts(stack)
            rows = windows(soak.onboardings, soak.samples, minutes, window)
            tenant_429 = unico_rates(stack, soak.began, rows, window * 60)
    failed = verdict(soak.onboardings, rows, selfies, evidence)
    lines = ["faults:", *soak.faults, "", *table(rows)]
    lines.append(f"tenant's 429 answers (its limit, not the injected): {tenant_429}")
    for o in soak.onboardings:
        if o.ended is None or not o.as_expected:
            lines.append(f"  {o.request_id} ({o.path}): {o.outcome} {o.note}")
    lines.append("soak: " + ("passed" if not failed else "FAILED: " + "; ".join(failed)))
    print("\n".join(lines), flush=True)
    out.mkdir(parents=True, exist_ok=True)
    figures = {"windows": rows, "tenant_429": tenant_429, "faults": soak.faults, "failed": failed}
    (out / "soak.json").write_text(json.dumps(figures, indent=2) + "\n")
    (out / "soak-onboardings.json").write_text(
        json.dumps([asdict(o) for o in soak.onboardings]) + "\n"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--window", type=float, default=5.0, help="minutes per window")
    parser.add_argument("--tenant-rate", type=float, default=TENANT_RATE)
    parser.add_argument("--load", type=float, default=0.8, help="share of the tenant's rate")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args()
    leave(asyncio.run(main(args.minutes, args.window, args.tenant_rate, args.load, args.out)))

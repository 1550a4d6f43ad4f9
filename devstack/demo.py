"""`onboarding demo`: one onboarding per scenario CPF, concurrently, with live progress; one
review settled (a score-28 onboarding with review on, which the demo approves once it
waits, logged in at the reviewers' console as the sandbox's reviewer Ana); one whole
journey: a new person approved, registered in Identity Cloud and enrolled in MFA, the demo
typing the code it reads from the sandbox's SMS inbox as the person would read it from their
phone; and four captures of Unico's SDK (made by the
sandbox's stand-in, each with the image the person saw beside it): a live one approved, a
spoof rejected, an old one and a reused one each asking for a new capture.

A part it cannot reach (the sandbox, the gateway, the console, Temporal) stops the demo
with one line, and the onboardings it started are canceled (terminated when a cancellation
does not end one in time): none is left waiting for a reviewer or a code nobody will send."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import httpx
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from activities.guardian import GuardianSettings, e164
from devstack.console_client import REVIEWER, ConsoleError, ConsoleUser
from devstack.sandbox_client import SandboxClient
from devstack.scenarios import SCENARIOS, Scenario
from devstack.watch import until_stage
from onboarding.cli.common import CommandError
from onboarding.runtime.console_settings import ConsoleSettings
from onboarding.runtime.errors import StackUnavailable
from onboarding.runtime.settings import Settings, read_settings
from onboarding.temporal.client import store_selfie
from onboarding.temporal.otp import submit_code
from onboarding_client.contract.cpf import cpf_with_check_digits
from onboarding_client.contract.names import STATUS_QUERY
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import (
    AccountOptions,
    MfaOptions,
    OnboardingOptions,
    OnboardingRequest,
    ReviewOptions,
    Subject,
)
from onboarding_client.contract.result import OnboardingResult
from onboarding_client.contract.status import OnboardingStatus, Stage
from onboarding_client.onboardings import OnboardingHandle, start_onboarding

SAMPLE_SELFIE = files("onboarding") / "assets" / "sample-selfie.jpg"
DEMO_NAME = "Pessoa Demonstracao"
# Unico answers score 28 (`review`); with review on, the demo settles it as a reviewer would.
REVIEWED = Scenario("00000000353", "score 28, review on: the demo approves", Outcome.APPROVED)
JOURNEY = "account and MFA: the demo types the SMS code"
DEV_SANDBOX = "http://127.0.0.1:8089"  # the dev stack's, when neither variable says
# How long the onboardings of a demo that stopped get to end canceled, before a termination.
CANCEL_SECONDS = 20.0
LIVE_CPF = SCENARIOS[0].cpf  # its verdict is approved at once, so the capture decides


@dataclass(frozen=True)
class CaptureScenario:
    scenario: Scenario
    order: dict[str, Any]  # what the sandbox's capture SDK is asked for


LIVE = CaptureScenario(
    Scenario(LIVE_CPF, "a live capture: liveness checked", Outcome.APPROVED), {"liveness": "live"}
)
CAPTURES = (
    CaptureScenario(
        Scenario(LIVE_CPF, "a spoofed capture: liveness.2", Outcome.REJECTED),
        {"liveness": "spoof"},
    ),
    CaptureScenario(
        Scenario(LIVE_CPF, "a capture made 11 minutes ago: unico.10507", Outcome.RECAPTURE),
        {"liveness": "live", "age_seconds": 660},
    ),
)
REUSED = Scenario(LIVE_CPF, "the live capture sent again: unico.10508", Outcome.RECAPTURE)


@dataclass(frozen=True)
class DemoRow:
    scenario: Scenario
    workflow_id: str
    result: OnboardingResult
    seconds: float

    note: str | None = None  # what sets the row apart, beyond its CPF

    @property
    def matches(self) -> bool:
        return self.result.outcome == self.scenario.expected

    def as_json(self) -> dict[str, Any]:
        return {
            "cpf": self.scenario.cpf,
            "expected": self.scenario.expected.value,
            "actual": self.result.outcome.value,
            "match": self.matches,
            "note": self.note,
            "selfie": self.result.selfie,
            "reasons": [reason.code for reason in self.result.reasons],
            "workflow_id": self.workflow_id,
            "process_id": self.result.process_id,
            "attempts": self.result.attempts,
            "seconds": round(self.seconds, 2),
            "review": self.result.review.model_dump(mode="json") if self.result.review else None,
            "account": self.result.account.model_dump(mode="json") if self.result.account else None,
            "mfa": self.result.mfa.model_dump(mode="json") if self.result.mfa else None,
        }


async def run_demo(
    client: Client, settings: Settings, progress: Callable[[str], None] | None
) -> list[DemoRow]:
    image = SAMPLE_SELFIE.read_bytes()
    run_id = time.strftime("%Y%m%d-%H%M%S")
    started = time.monotonic()
    console_url = read_settings(ConsoleSettings, os.environ).public_url
    places = {
        "the sandbox": sandbox_url(),
        "the reviewers' console": console_url,
        "the gateway": settings.gateway_url,
    }
    sandbox = SandboxClient(places["the sandbox"])
    begun: list[OnboardingHandle] = []  # every onboarding this demo started

    def say(text: str) -> None:
        if progress:
            progress(f"[{time.monotonic() - started:6.1f}s] {text}")

    async def one(
        number: int,
        scenario: Scenario,
        reviewed: bool = False,
        journey: bool = False,
        capture: bytes | None = None,
    ) -> DemoRow:
        if capture is None:
            selfie_ref = await store_selfie(settings, image)
        else:  # with the image the person saw, for a reviewer
            selfie_ref = await store_selfie(settings, capture, image)
        # Said either way: a deployment that reviews by default would keep the other
        # `review` rows waiting for days.
        options = OnboardingOptions(review=ReviewOptions(enabled=reviewed))
        subject = Subject(code=scenario.cpf, name=DEMO_NAME)
        if journey:
            options.account, options.mfa = AccountOptions(register=True), MfaOptions(enroll=True)
            subject.email, subject.phone = f"demo.{run_id}@example.com", new_phone()
        request = OnboardingRequest(
            # Never the CPF: the workflow id is stored in clear.
            request_id=f"demo-{run_id}-{number:02d}",
            subject=subject,
            selfie_ref=selfie_ref,
            options=options,
        )
        handle = await start_onboarding(client, request, settings.task_queue)
        begun.append(handle)
        say(f"{scenario.cpf} started {handle.id}")
        watcher = asyncio.create_task(_watch(handle, scenario.cpf, say))
        try:
            if reviewed:
                await _settle_review(console_url, handle, request.request_id, say)
            if journey:
                assert subject.phone is not None
                await _type_the_code(
                    client, handle, request.request_id, subject.phone, sandbox, say
                )
            result = await handle.result()
        finally:
            watcher.cancel()
        mark = "ok" if result.outcome == scenario.expected else "MISMATCH"
        say(f"{scenario.cpf} -> {result.outcome.value} ({mark})")
        note = scenario.unico_behaviour if capture is not None else None
        return DemoRow(scenario, handle.id, result, time.monotonic() - started, note)

    async def every_row() -> list[DemoRow]:
        # Made first: a capture is good for 10 minutes, and the demo takes less than one.
        live_capture = await _capture(sandbox, image, LIVE.order)
        captures = [await _capture(sandbox, image, made.order) for made in CAPTURES]

        runs: list[Awaitable[DemoRow]] = [one(n, s) for n, s in enumerate(SCENARIOS, 1)]
        number = len(SCENARIOS)
        runs.append(one(number + 1, REVIEWED, reviewed=True))
        # A person nobody onboarded before, so the account and the enrollment are new.
        person = cpf_with_check_digits(f"{random.randrange(10**8, 10**9)}")
        runs.append(one(number + 2, Scenario(person, JOURNEY, Outcome.APPROVED), journey=True))
        live = asyncio.ensure_future(one(number + 3, LIVE.scenario, capture=live_capture))
        runs.append(live)
        for offset, (made, capture) in enumerate(zip(CAPTURES, captures, strict=True), number + 4):
            runs.append(one(offset, made.scenario, capture=capture))

        async def reused() -> DemoRow:
            await live  # the live row's create has used the capture
            return await one(number + 4 + len(CAPTURES), REUSED, capture=live_capture)

        runs.append(reused())
        return await _all_or_none(runs)

    try:
        return await every_row()
    except BaseException as failure:
        # Whatever stopped it, no onboarding of the demo is left waiting.
        ended = await end_onboardings(client, begun, f"onboarding demo stopped: {failure!r}"[:200])
        if not isinstance(failure, Exception):
            raise  # Ctrl-C, once they are ended
        raise demo_failure(failure, places, ended) from None


async def _all_or_none(runs: list[Awaitable[DemoRow]]) -> list[DemoRow]:
    """Every row; at the first failure, the other rows are stopped and it is raised."""
    tasks = [asyncio.ensure_future(run) for run in runs]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


@dataclass(frozen=True)
class Ended:
    """What became of a stopped demo's onboardings that still ran."""

    canceled: int = 0
    terminated: int = 0
    unreachable: int = 0  # Temporal did not answer: they may still run

    def __str__(self) -> str:
        said = []
        if self.canceled:
            said.append(f"canceled {self.canceled} of its onboardings that still ran")
        if self.terminated:
            said.append(
                f"terminated {self.terminated} that a cancellation did not end in "
                f"{CANCEL_SECONDS:g} s"
            )
        if self.unreachable:
            said.append(
                f"could not end {self.unreachable} (Temporal did not answer: cancel them with "
                "`temporal workflow cancel`)"
            )
        return ", ".join(said)


async def end_onboardings(client: Client, handles: list[OnboardingHandle], why: str) -> Ended:
    """Cancel each onboarding that still runs, and wait for it to end (it ends `canceled`,
    its selfie released); one that does not end in time is terminated."""

    async def end(workflow_id: str) -> str:
        handle = client.get_workflow_handle(workflow_id)  # its latest run
        try:
            if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
                return "ended"
            await handle.cancel()
            try:
                async with asyncio.timeout(CANCEL_SECONDS):
                    await handle.result()
            except WorkflowFailureError:
                pass  # ended all the same
            except TimeoutError:
                await handle.terminate(reason=why)
                return "terminated"
        except RPCError as error:
            return "ended" if error.status == RPCStatusCode.NOT_FOUND else "unreachable"
        return "canceled"

    fates = await asyncio.gather(*(end(handle.id) for handle in handles))
    return Ended(fates.count("canceled"), fates.count("terminated"), fates.count("unreachable"))


def demo_failure(failure: Exception, places: Mapping[str, str], ended: Ended) -> Exception:
    """The one line that says what stopped the demo, and what became of its onboardings:
    `StackUnavailable` for a part out of reach, else `CommandError`."""
    unreachable, what = _what_failed(failure, places)
    text = f"{what}; {ended}" if ended != Ended() else what
    return StackUnavailable(text) if unreachable else CommandError(text)


def _what_failed(failure: Exception, places: Mapping[str, str]) -> tuple[bool, str]:
    cause = (str(failure).strip().splitlines() or [type(failure).__name__])[0][:200]
    if isinstance(failure, httpx.TransportError):
        try:
            url = str(failure.request.url)
        except RuntimeError:  # raised without a request
            url = ""
        place = next((name for name, base in places.items() if url.startswith(base)), "")
        where = f"{place} at {url}" if place else url or "a part of the stack"
        return True, f"cannot reach {where} ({cause})"
    if isinstance(failure, StackUnavailable):
        return True, cause
    if isinstance(failure, RPCError):
        if failure.status == RPCStatusCode.UNAVAILABLE:
            return True, f"cannot reach Temporal ({failure.message})"
        return False, f"Temporal answered: {failure.message}"
    if isinstance(failure, httpx.HTTPStatusError):
        return False, f"{failure.request.url} answered {failure.response.status_code}"
    return False, f"{type(failure).__name__}: {cause}"


def sandbox_url() -> str:
    """The sandbox that plays Unico's SDK and the phone's SMS inbox: SANDBOX_URL (the stack's
    env file gives it), else GUARDIAN_URL's, else the dev stack's."""
    if given := os.environ.get("SANDBOX_URL", "").strip():
        return given.rstrip("/")
    return (GuardianSettings().guardian_url or DEV_SANDBOX).removesuffix("/guardian")


async def _capture(sandbox: SandboxClient, image: bytes, order: dict[str, Any]) -> bytes:
    """A capture as the app gets it from Unico's SDK (the sandbox's stand-in makes it)."""
    body = {"image_base64": base64.b64encode(image).decode(), **order}
    made = await asyncio.to_thread(sandbox.request, "POST", "captures", body)
    return str(made["capture"]).encode("ascii")


def new_phone() -> str:
    return f"11 9{random.randrange(10**7, 10**8)}"  # never one of the test phones' endings


async def _type_the_code(
    client: Client,
    handle: OnboardingHandle,
    request_id: str,
    phone: str,
    inbox: SandboxClient,
    say: Callable[[str], None],
) -> None:
    """Once the code waits: read it from the sandbox's inbox and send it, as the app would."""
    if not await _until(handle, Stage.AWAITING_OTP):
        return
    code = inbox.last_code(e164("".join(c for c in phone if c.isdigit())))
    answer = await submit_code(client, request_id, code)
    say(f"{handle.id} code from the SMS: {'accepted' if answer.accepted else answer.reason}")


async def _settle_review(
    console_url: str, handle: OnboardingHandle, request_id: str, say: Callable[[str], None]
) -> None:
    """Once the onboarding waits for a reviewer, answer as one: logged in at the console."""
    if not await _until(handle, Stage.AWAITING_REVIEW):
        return
    async with ConsoleUser(console_url) as reviewer:
        await reviewer.log_in(*REVIEWER)
        answered = await reviewer.answer(
            request_id, "approved", "documents.match", "settled by onboarding demo"
        )
    if answered.status_code != 200 or f"{request_id}: approved" not in answered.text:
        raise ConsoleError(f"the console did not take the demo's answer ({answered.status_code})")
    say(f"{handle.id} review settled at the console by {REVIEWER[0]}")


async def _until(handle: OnboardingHandle, stage: Stage) -> bool:
    """Whether the onboarding reached `stage`; False when it was decided without it (the
    row then shows the mismatch)."""
    status = await until_stage(handle, stage, Stage.DECIDED, seconds=None, poll=0.25)
    return status.stage is stage


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
    header = (
        f"{'CPF':<12} {'selfie':<8} {'expected':<16} {'actual':<16} {'match':<6} "
        f"{'attempts':>8} {'s':>6}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.scenario.cpf:<12} {row.result.selfie or '-':<8} "
            f"{row.scenario.expected.value:<16} "
            f"{row.result.outcome.value:<16} {'yes' if row.matches else 'NO':<6} "
            f"{row.result.attempts:>8} {row.seconds:>6.1f}"
            + (f"  {row.note}" if row.note else "")
            + (f"  reviewed by {row.result.review.reviewer}" if row.result.review else "")
            + (f"  account {row.result.account.status.value}" if row.result.account else "")
            + (f", mfa {row.result.mfa.status.value}" if row.result.mfa else "")
        )
    matched = sum(row.matches for row in rows)
    lines.append(f"{matched}/{len(rows)} scenarios reached their expected outcome")
    return "\n".join(lines)

"""Activities stubbed by name, for testing the workflow's own logic on a time-skipping server.

Each stub answers what its script says, call after call (a value, or an error of a class),
then its default; every call is recorded. The workflow under test is the real one, on a
task queue of the test's own, with a worker that has these stubs instead of the activities.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkerDeploymentVersion
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker, WorkerDeploymentConfig

from activities.heartbeats import heartbeating
from contracts.activity import declarations
from contracts.mfa import Enrollment, OtpVerdict, SmsSent
from contracts.review_proof import parse_signer_keys, trusted_signers
from contracts.selfies import SelfieRelease
from contracts.unico import (
    CreateProcessInput,
    OpenedProcess,
    ReadProcess,
    ReadProcessInput,
    SelfieCheck,
    UnicoProcess,
)
from devstack.versions import make_current
from onboarding_client.contract.names import queue_for
from onboarding_client.contract.result import AccountResult, AccountStatus
from tests.reviewers import TEST_SIGNER_KEYS
from worker import LEAVE_PAYLOAD_LIMIT_TO_SERVER, WORKFLOW_RUNNER
from workflows import WORKFLOWS

# What a script answers by: each activity's name, and, inside the Unico activities, the
# parts they are made of (the selfie's check, the create, the read), so that a test scripts
# a refused selfie, a failed create or a pending read.
INSPECT_SELFIE, CREATE_PROCESS, GET_PROCESS = "inspect_selfie", "create_process", "get_process"
OPEN_PROCESS, READ_PROCESS = "open_process", "read_process"
RELEASE_SELFIE, DELETE_SELFIE = "release_selfie", "delete_selfie"
REVIEW_BY_DEFAULT, REGISTER_ACCOUNT = "review_by_default", "register_account"
FORGET_RUN = "forget_run"
START_MFA_ENROLLMENT, SEND_OTP_SMS, VERIFY_OTP = (
    "start_mfa_enrollment",
    "send_otp_sms",
    "verify_otp",
)
APPROVED = UnicoProcess.model_validate({"id": "p-1", "status": 3, "unicoId": {"result": "yes"}})
PENDING = UnicoProcess.model_validate({"id": "p-1", "status": 1})
# Score 28: in a band where the client evaluates, so the decision is `review`.
TO_REVIEW = UnicoProcess.model_validate(
    {"id": "p-1", "status": 3, "unicoId": {"result": "inconclusive"}, "liveness": 1, "score": 28}
)


@dataclass
class Hold:
    """An answer the test lets go: the call stays in flight until `release()`."""

    answer: Any
    started: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass(frozen=True)
class Fail:
    """An error as the real activities raise it: its class is the type, its code in details."""

    error_class: str
    code: str | None = None
    message: str = "stubbed failure"
    non_retryable: bool = False  # as an activity says of an error it gave up on
    system: str = "stub"  # the remote system that answered, as the details name it
    unanswered_creates: int = 0  # earlier creates lost with their worker, as the claim said

    def error(self) -> ApplicationError:
        details: dict[str, Any] = {"system": self.system, "code": self.code}
        details["message"] = self.message
        if self.unanswered_creates:
            details["unanswered_creates"] = self.unanswered_creates
        # Retried at once when the class is one the retry policy retries: no backoff to wait.
        return ApplicationError(
            self.message,
            details,
            type=self.error_class,
            non_retryable=self.non_retryable,
            next_retry_delay=timedelta(0),
        )


DEFAULTS: dict[str, Any] = {
    INSPECT_SELFIE: SelfieCheck(ok=True),
    CREATE_PROCESS: APPROVED,
    GET_PROCESS: APPROVED,
    RELEASE_SELFIE: SelfieRelease(deleted=True),
    DELETE_SELFIE: None,
    FORGET_RUN: None,
    REVIEW_BY_DEFAULT: False,
    REGISTER_ACCOUNT: AccountResult(status=AccountStatus.REGISTERED, uuid="u-1"),
    START_MFA_ENROLLMENT: Enrollment(sealed="sealed-1"),
    SEND_OTP_SMS: SmsSent(sent=True),
    VERIFY_OTP: OtpVerdict(accepted=True, recovery_code="RECOVERY-CODE-OF-THE-STUB"),
}


@dataclass
class Script:
    """What each activity answers next (by name), and every call it got: (name, argument)."""

    answers: dict[str, list[Any]] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    # The deployment's wait for Unico's webhook, as `open_process` answers it (UNICO_WEBHOOKS).
    webhook_wait: float | None = None

    def called(self, name: str) -> list[Any]:
        return [arg for called, arg in self.calls if called == name]

    async def answer(self, name: str, args: tuple[Any, ...]) -> Any:
        if name == OPEN_PROCESS:
            return await self._open(args)
        if name == READ_PROCESS:
            return await self._read(args)
        self.calls.append((name, args[0] if args else None))
        queue = self.answers.get(name, [])
        reply = queue.pop(0) if queue else DEFAULTS[name]
        if isinstance(reply, Hold):
            reply.started.set()
            await reply.released.wait()
            reply = reply.answer
        if isinstance(reply, Fail):
            raise reply.error()
        return reply

    async def _open(self, args: tuple[Any, ...]) -> OpenedProcess:
        """`open_process` is the selfie's check and the create in one activity: it answers
        from their scripts, so a test scripts `inspect_selfie` and `create_process` on
        either path (and sees both in `calls`)."""
        created = CreateProcessInput.model_validate(args[0])
        check: SelfieCheck = await self.answer(INSPECT_SELFIE, (created.selfie_ref,))
        if not check.ok:
            return OpenedProcess(refused=check)
        process: UnicoProcess = await self.answer(CREATE_PROCESS, args)
        release = await self._release(created.selfie_ref, process)
        wait = None if process.is_final else self.webhook_wait
        return OpenedProcess(process=process, release=release, first_read_after_seconds=wait)

    async def _read(self, args: tuple[Any, ...]) -> ReadProcess:
        """`read_process` is the read and, once settled, the selfie's release: it answers
        from the `get_process` and `release_selfie` scripts."""
        asked = ReadProcessInput.model_validate(args[0])
        process: UnicoProcess = await self.answer(GET_PROCESS, (asked.process_id,))
        return ReadProcess(process=process, release=await self._release(asked.selfie_ref, process))

    async def _release(self, selfie_ref: str, process: UnicoProcess) -> SelfieRelease | None:
        # As the activities fold it in: a store's failure leaves the release to the end.
        if not process.is_settled:
            return None
        try:
            release: SelfieRelease = await self.answer(RELEASE_SELFIE, (selfie_ref,))
        except ApplicationError:
            return None
        return release


@dataclass
class StubbedWorker:
    """A worker of the real workflow whose activities answer from `script`: set a new script
    before each onboarding (one at a time)."""

    queue: str
    script: Script = field(default_factory=Script)

    def stub(self, name: str) -> Callable[..., Any]:
        @activity.defn(name=name)
        async def answer(*args: Any) -> Any:
            # Beats while it answers (a held answer too), as the real activities do.
            async with heartbeating():
                return await self.script.answer(name, args)

        return answer


@asynccontextmanager
async def stubbed_worker(client: Client, queue: str | None = None) -> AsyncIterator[StubbedWorker]:
    """The workflows with stubbed activities, each on the queue its contract names (the
    workflow's own, or its remote system's), under `queue` (or a queue of its own; a given
    one takes over another worker's onboardings, as a restarted one does)."""
    stubbed = StubbedWorker(queue or f"stubbed-{uuid.uuid4().hex[:8]}")
    trusted_signers.replace(parse_signer_keys(TEST_SIGNER_KEYS))  # as worker.py does
    # A deployment of its own: each test module's worker is current in its own.
    version = WorkerDeploymentVersion(f"onboarding-{stubbed.queue}", "stub")
    deployment = WorkerDeploymentConfig(version=version, use_worker_versioning=True)
    by_queue: dict[str | None, list[Callable[..., Any]]] = {}
    for declared in declarations():
        by_queue.setdefault(declared.system, []).append(stubbed.stub(declared.name))
    workers = [
        Worker(
            client,
            task_queue=queue_for(system, stubbed.queue) if system else stubbed.queue,
            activities=stubs,
            deployment_config=deployment,
            workflows=[] if system else list(WORKFLOWS),
            workflow_runner=WORKFLOW_RUNNER,
            disable_payload_error_limit=LEAVE_PAYLOAD_LIMIT_TO_SERVER,
        )
        for system, stubs in by_queue.items()
    ]
    async with contextlib.AsyncExitStack() as stack:
        for running in workers:
            await stack.enter_async_context(running)
        await make_current(client, version)
        yield stubbed

"""Activities stubbed by name, for testing the workflow's own logic on a time-skipping server.

Each stub answers what its script says, call after call (a value, or an error of a class),
then its default; every call is recorded. The workflow under test is the real one, on a
task queue of the test's own, with a worker that has these stubs instead of the activities.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from workflows.models import (
    AccountResult,
    AccountStatus,
    CreateProcessInput,
    Enrollment,
    OpenedProcess,
    OtpVerdict,
    ReadProcess,
    ReadProcessInput,
    SelfieCheck,
    SelfieRelease,
    SmsSent,
    TokenInfo,
    UnicoProcess,
)
from workflows.names import (
    ACQUIRE_TOKEN,
    CREATE_PROCESS,
    DELETE_SELFIE,
    GET_PROCESS,
    GUARDIAN_ACTIVITIES,
    IDENTITY_CLOUD_ACTIVITIES,
    INSPECT_SELFIE,
    OPEN_PROCESS,
    READ_PROCESS,
    REGISTER_ACCOUNT,
    RELEASE_SELFIE,
    REVIEW_BY_DEFAULT,
    SEND_OTP_SMS,
    START_MFA_ENROLLMENT,
    UNICO_API_ACTIVITIES,
    VERIFY_OTP,
    guardian_task_queue_for,
    identity_cloud_task_queue_for,
    unico_task_queue_for,
)
from workflows.onboarding import Onboarding
from workflows.selfie_release import SelfieRetention

# As the worker runs it (worker.py): the workflows package passed through the sandbox.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows")
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

    def error(self) -> ApplicationError:
        details = {"system": self.system, "code": self.code, "message": self.message}
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
    ACQUIRE_TOKEN: TokenInfo(expires_in_seconds=3600, refreshed=False),
    CREATE_PROCESS: APPROVED,
    GET_PROCESS: APPROVED,
    RELEASE_SELFIE: SelfieRelease(deleted=True),
    DELETE_SELFIE: None,
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
        if self.answers.get(ACQUIRE_TOKEN):  # a scripted token failure fails the create
            await self.answer(ACQUIRE_TOKEN, (False,))
        process: UnicoProcess = await self.answer(CREATE_PROCESS, args)
        release = (
            await self._release(created.selfie_ref, process)
            if created.release_when_settled
            else None
        )
        return OpenedProcess(process=process, release=release)

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
            return await self.script.answer(name, args)

        return answer


@asynccontextmanager
async def stubbed_worker(client: Client, queue: str | None = None) -> AsyncIterator[StubbedWorker]:
    """The Onboarding workflow with stubbed activities, on queues of its own (or `queue`,
    to take over another worker's onboardings, as a restarted one does)."""
    stubbed = StubbedWorker(queue or f"stubbed-{uuid.uuid4().hex[:8]}")
    queue = stubbed.queue
    stubs = {name: stubbed.stub(name) for name in [*DEFAULTS, OPEN_PROCESS, READ_PROCESS]}
    workflows = Worker(
        client,
        task_queue=queue,
        workflows=[Onboarding, SelfieRetention],
        workflow_runner=WORKFLOW_RUNNER,
        activities=[
            stub
            for name, stub in stubs.items()
            if name not in UNICO_API_ACTIVITIES | IDENTITY_CLOUD_ACTIVITIES | GUARDIAN_ACTIVITIES
        ],
    )
    unico = Worker(
        client,
        task_queue=unico_task_queue_for(queue),
        activities=[stubs[name] for name in sorted(UNICO_API_ACTIVITIES)],
    )
    identity_cloud = Worker(
        client,
        task_queue=identity_cloud_task_queue_for(queue),
        activities=[stubs[name] for name in sorted(IDENTITY_CLOUD_ACTIVITIES)],
    )
    guardian = Worker(
        client,
        task_queue=guardian_task_queue_for(queue),
        activities=[stubs[name] for name in sorted(GUARDIAN_ACTIVITIES)],
    )
    async with workflows, unico, identity_cloud, guardian:
        yield stubbed

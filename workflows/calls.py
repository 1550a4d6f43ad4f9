"""Calling an activity: the one way every step does it, and the reactions to its failure.

A step calls an activity's contract by reference (`contracts/`), with the `CallOptions` it
needs. The activity's retry policy retries what it can (transient, rate-limited); every
other class comes back at once, and `reactions` says what then: call again with a new token
(the activity dropped the refused one), wait for an operator (growing durable waits, cut
short by `retry_now`) and call again, or give up (`CallFailed`), leaving the step to decide
what that means. Calls never run past the step's deadline (`DeadlinePassed`). A
cancellation of the onboarding surfaces as `asyncio.CancelledError`, as it does from a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NoReturn, Protocol, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from contracts.activity import declared
    from onboarding_client.contract.names import queue_for
    from onboarding_client.contract.outcome import Reason
    from onboarding_client.contract.request import RetrySchedule
    from onboarding_client.contract.status import Stage
    from workflows.reactions import (
        MAX_TOKEN_REFRESHES,
        RETRY_POLICY,
        Reaction,
        Remedy,
        reaction_for,
    )

P = TypeVar("P")
R = TypeVar("R")


@dataclass(frozen=True)
class CallOptions:
    """How a step calls an activity.

    `attempt` bounds one attempt; `retry` is what the activity retries by itself; `budget`
    bounds the call in all (None: until the step's deadline); `react`: the workflow's
    reactions by class (a new token, an operator's wait), or none (a person waits on a
    screen: fail fast); `local`: as a local activity of the workflow's own worker;
    `heartbeat`: the heartbeat timeout, for an activity that beats while it works.
    """

    attempt: timedelta = timedelta(seconds=60)
    retry: RetryPolicy = field(default_factory=lambda: RETRY_POLICY)
    budget: timedelta | None = None
    react: bool = True
    local: bool = False
    # For an activity that beats (`activities/heartbeats.py`): a dead worker is seen then.
    heartbeat: timedelta | None = None


STEP_CALL = CallOptions()


class CallFailed(Exception):
    """No reaction cures the failure: `reaction` says what it means, `reason` why;
    `unanswered_creates`: earlier creates of the call that left without an answer."""

    def __init__(
        self, reaction: Reaction, reason: Reason, error_type: str | None, unanswered: int = 0
    ) -> None:
        super().__init__(reason.code)
        self.reaction, self.reason, self.error_type = reaction, reason, error_type
        self.unanswered_creates = unanswered


class DeadlinePassed(Exception):
    """The step's deadline came before the call could succeed."""


class OperatorDesk(Protocol):
    """What a call shows while it waits for an operator, and how the operator answers."""

    retry_now: bool

    def waits(self, stage: Stage) -> RetrySchedule: ...

    def block(self, reason: Reason, stage: Stage) -> None: ...

    def unblock(self, stage: Stage) -> None: ...

    def stage(self) -> Stage: ...


async def durable_sleep(
    seconds: float, summary: str, cut_short: Callable[[], bool] | None = None
) -> None:
    """A durable timer, which `cut_short` (a signal's flag) may end early."""
    # The timer running out is the normal way a wait ends.
    with contextlib.suppress(TimeoutError):
        await workflow.wait_condition(
            cut_short or (lambda: False),
            timeout=timedelta(seconds=seconds),
            timeout_summary=summary,
        )


class Calls:
    """The calls of one step, bounded by its `deadline` (epoch seconds)."""

    def __init__(self, desk: OperatorDesk, deadline: float) -> None:
        self._desk = desk
        self.deadline = deadline

    def remaining(self) -> float:
        return self.deadline - workflow.now().timestamp()

    async def run(
        self,
        activity: Callable[[P], Awaitable[R]],
        arg: P,
        summary: str,
        how: CallOptions = STEP_CALL,
    ) -> R:
        """Run one activity; react to its final failure by the error's class."""
        return await self._run(activity, [arg], summary, how)

    async def ask(
        self, activity: Callable[[], Awaitable[R]], summary: str, how: CallOptions = STEP_CALL
    ) -> R:
        """`run`, for an activity that takes no argument."""
        return await self._run(activity, [], summary, how)

    async def _run(
        self, activity: Callable[..., Awaitable[R]], args: list[Any], summary: str, how: CallOptions
    ) -> R:
        refreshes = waits = 0
        stage = self._desk.stage()
        while True:
            try:
                result = await self._execute(activity, args, summary, how)
            except ActivityError as err:
                reaction = reaction_for(error_type_of(err)) if how.react else _NO_REACTION
                if reaction.remedy is Remedy.NEW_TOKEN and refreshes < MAX_TOKEN_REFRESHES:
                    refreshes += 1  # the activity dropped the refused token: it gets a new one
                    continue
                if reaction.remedy is Remedy.WAIT_FOR_OPERATOR:
                    await self._wait_for_operator(activity, err, reaction, waits)
                    waits += 1
                    continue
                self._fail(activity, err, reaction)
            if waits:
                self._desk.unblock(stage)
            return result

    async def _execute(
        self, activity: Callable[..., Awaitable[R]], args: list[Any], summary: str, how: CallOptions
    ) -> R:
        remaining = self.remaining()
        if how.budget is None and remaining <= 0:
            raise DeadlinePassed
        budget = how.budget or timedelta(seconds=max(remaining, 1.0))
        options: dict[str, Any] = {
            "args": args,
            "start_to_close_timeout": how.attempt,
            "schedule_to_close_timeout": budget,
            "retry_policy": how.retry,
            "summary": summary,
        }
        if how.local:
            result: R = await workflow.execute_local_activity(activity, **options)
            return result
        if how.heartbeat is not None:
            options["heartbeat_timeout"] = how.heartbeat
        system = declared(activity).system
        queue = queue_for(system, workflow.info().task_queue) if system else None
        result = await workflow.execute_activity(activity, task_queue=queue, **options)
        return result

    async def _wait_for_operator(
        self, activity: Callable[..., Any], err: ActivityError, reaction: Reaction, waits: int
    ) -> None:
        """Blocked until an operator acts: show it, wait (growing), and let the caller retry."""
        assert reaction.stage is not None
        reason = reason_for(activity, err)
        self._desk.block(reason, reaction.stage)
        if waits == 0:
            self._desk.retry_now = False  # a signal from before this block is no answer to it
        if (remaining := self.remaining()) > 0:
            delay = min(self._desk.waits(reaction.stage).delay(waits), remaining)
            name = declared(activity).name
            summary = f"{reaction.stage.value}: retry {name} in {delay:g}s"
            await durable_sleep(delay, summary, lambda: self._desk.retry_now)
            self._desk.retry_now = False
        if self.remaining() <= 0:  # the error, not "deadline", says what went wrong
            message = f"{reason.message} (still failing at the deadline)"
            still = Reason(code=reason.code, message=message)
            raise CallFailed(reaction, still, error_type_of(err), unanswered_creates_of(err))

    def _fail(
        self, activity: Callable[..., Any], err: ActivityError, reaction: Reaction
    ) -> NoReturn:
        cause = err.cause
        if isinstance(cause, CancelledError):
            # The onboarding was canceled while this activity ran or waited to retry.
            raise asyncio.CancelledError
        if isinstance(cause, ActivityTimeout) and self.remaining() <= 0:
            raise DeadlinePassed
        reason = reason_for(activity, err)
        raise CallFailed(reaction, reason, error_type_of(err), unanswered_creates_of(err))


# Without the workflow's reactions, every failure is final: the step says what it means.
_NO_REACTION = reaction_for(None)


def error_type_of(err: ActivityError) -> str | None:
    cause = err.cause
    return cause.type if isinstance(cause, ApplicationError) else None


def unanswered_creates_of(err: ActivityError) -> int:
    """What the error says of earlier creates that left without an answer (0: none)."""
    cause = err.cause
    raw = cause.details[0] if isinstance(cause, ApplicationError) and cause.details else None
    count = raw.get("unanswered_creates") if isinstance(raw, dict) else None
    return count if isinstance(count, int) and count > 0 else 0


# The create's reasons keep the name callers match on, whichever activity made the create.
REASON_NAMES = {"open_process": "create_process"}
# A remote's code in a reason is prefixed by the system that answered it: `unico.20507`,
# `identity_cloud.361`. Unico's two error systems share one prefix.
REASON_PREFIXES = {"identity-cloud": "identity_cloud", "mfa": "mfa"}


def reason_for(activity: Callable[..., Any], err: ActivityError) -> Reason:
    """The code and words that explain a failed activity: the remote's code where there is one."""
    cause = err.cause
    name = declared(activity).name
    name = REASON_NAMES.get(name, name)
    if isinstance(cause, ApplicationError):
        details = cause.details[0] if cause.details else {}
        code = details.get("code") if isinstance(details, dict) else None
        system = details.get("system") if isinstance(details, dict) else None
        prefix = REASON_PREFIXES.get(system, "unico") if isinstance(system, str) else "unico"
        reason_code = f"{prefix}.{code}" if code else f"{name}.{cause.type}"
        return Reason(code=reason_code, message=cause.message)
    return Reason(code=f"{name}.failed", message=str(cause))

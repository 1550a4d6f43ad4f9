"""Calling an activity from the workflow, and reacting to its final failure by its class.

The activity's retry policy retries what it can (transient, rate-limited); every other
class comes back at once, and `workflows/reactions.py` says what then: get a new token and
call again, wait for an operator (growing durable waits, cut short by `retry_now`) and call
again, or give up (`CallFailed`), leaving the workflow to decide what that means for the
onboarding. Calls never run past the deadline (`DeadlinePassed`). A cancellation of the
onboarding surfaces as `asyncio.CancelledError`, as it does from a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any, NoReturn, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from workflows.models import OnboardingOptions, Reason, Stage, TokenInfo
    from workflows.names import ACQUIRE_TOKEN, CREATE_PROCESS, OPEN_PROCESS, activity_task_queue
    from workflows.progress import Progress
    from workflows.reactions import (
        MAX_TOKEN_REFRESHES,
        RETRY_POLICY,
        Reaction,
        Remedy,
        reaction_for,
    )

T = TypeVar("T")

CALL_TIMEOUT = timedelta(seconds=60)


class CallFailed(Exception):
    """No reaction cures the failure: `reaction` says what it means, `reason` why."""

    def __init__(self, reaction: Reaction, reason: Reason, error_type: str | None) -> None:
        super().__init__(reason.code)
        self.reaction, self.reason, self.error_type = reaction, reason, error_type


class DeadlinePassed(Exception):
    """The deadline came before the call could succeed."""


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


class ActivityCalls:
    """The calls of one onboarding, bounded by `deadline` (epoch seconds)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.deadline = 0.0
        self.options = OnboardingOptions()  # the waits for an operator, once the request is read
        self.retry_now = False  # an operator says: retry now, not at the next timer

    def remaining(self) -> float:
        return self.deadline - workflow.now().timestamp()

    async def call(
        self,
        name: str,
        arg: Any,
        result_type: type[T],
        summary: str,
        *,
        refresh_with: str | None = ACQUIRE_TOKEN,
    ) -> T:
        """Run one activity; react to its final failure by the error's class.

        `refresh_with` names the activity that gets a new token when one is refused.
        """
        refreshes = waits = 0
        stage = self.progress.status.stage
        while True:
            try:
                result = await self._execute(name, arg, result_type, summary)
            except ActivityError as err:
                reaction = reaction_for(error_type_of(err))
                if reaction.remedy is Remedy.NEW_TOKEN and refreshes < MAX_TOKEN_REFRESHES:
                    refreshes += 1
                    # The activity dropped the refused token; retrying the token activity
                    # itself asks for a new one.
                    if refresh_with is not None and name != refresh_with:
                        await self.call(refresh_with, True, TokenInfo, "get a new access token")
                    continue
                if reaction.remedy is Remedy.WAIT_FOR_OPERATOR:
                    await self._wait_for_operator(name, err, reaction, waits)
                    waits += 1
                    continue
                self._fail(name, err, reaction)
            if waits:
                self.progress.unblock(stage)
            return result

    async def _execute(self, name: str, arg: Any, result_type: type[T], summary: str) -> T:
        remaining = self.remaining()
        if remaining <= 0:
            raise DeadlinePassed
        result: T = await workflow.execute_activity(
            name,
            args=[] if arg is None else [arg],
            result_type=result_type,
            task_queue=activity_task_queue(name, workflow.info().task_queue),
            start_to_close_timeout=CALL_TIMEOUT,
            schedule_to_close_timeout=timedelta(seconds=max(remaining, 1.0)),
            retry_policy=RETRY_POLICY,
            summary=summary,
        )
        return result

    async def _wait_for_operator(
        self, name: str, err: ActivityError, reaction: Reaction, waits: int
    ) -> None:
        """Blocked until an operator acts: show it, wait (growing), and let the caller retry."""
        assert reaction.stage is not None
        reason = reason_for(name, err)
        self.progress.block(reason, reaction.stage)
        schedule = (
            self.options.locked_retry
            if reaction.stage is Stage.BLOCKED_LOCKED
            else self.options.configuration_retry
        )
        if waits == 0:
            self.retry_now = False  # a signal from before this block is no answer to it
        if (remaining := self.remaining()) > 0:
            delay = min(schedule.delay(waits), remaining)
            summary = f"{reaction.stage.value}: retry {name} in {delay:g}s"
            await durable_sleep(delay, summary, lambda: self.retry_now)
            self.retry_now = False
        if self.remaining() <= 0:  # the error, not "deadline", says what went wrong
            message = f"{reason.message} (still failing at the deadline)"
            still = Reason(code=reason.code, message=message)
            raise CallFailed(reaction, still, error_type_of(err))

    def _fail(self, name: str, err: ActivityError, reaction: Reaction) -> NoReturn:
        cause = err.cause
        if isinstance(cause, CancelledError):
            # The onboarding was canceled while this activity ran or waited to retry.
            raise asyncio.CancelledError
        if isinstance(cause, ActivityTimeout) and self.remaining() <= 0:
            raise DeadlinePassed
        raise CallFailed(reaction, reason_for(name, err), error_type_of(err))


def error_type_of(err: ActivityError) -> str | None:
    cause = err.cause
    return cause.type if isinstance(cause, ApplicationError) else None


# The create's reasons keep the name callers match on, whichever activity made the create.
REASON_NAMES = {OPEN_PROCESS: CREATE_PROCESS}
# A remote's code in a reason is prefixed by the system that answered it: `unico.20507`,
# `identity_cloud.361`. Unico's two error systems share one prefix.
REASON_PREFIXES = {"identity-cloud": "identity_cloud", "mfa": "mfa"}


def reason_for(activity_name: str, err: ActivityError) -> Reason:
    """The code and words that explain a failed activity: the remote's code where there is one."""
    cause = err.cause
    activity_name = REASON_NAMES.get(activity_name, activity_name)
    if isinstance(cause, ApplicationError):
        details = cause.details[0] if cause.details else {}
        code = details.get("code") if isinstance(details, dict) else None
        system = details.get("system") if isinstance(details, dict) else None
        prefix = REASON_PREFIXES.get(system, "unico") if isinstance(system, str) else "unico"
        reason_code = f"{prefix}.{code}" if code else f"{activity_name}.{cause.type}"
        return Reason(code=reason_code, message=cause.message)
    return Reason(code=f"{activity_name}.failed", message=str(cause))

"""What the steps of one onboarding share: what operators see (`progress`), the waits while
an operator must act and the operator's `retry_now`, a way to call activities within a
time budget of the step's own (`calls_for`), and a way to end the onboarding (`finish`).

Deterministic: workflow code only.
"""

from __future__ import annotations

from typing import NoReturn

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from onboarding_client.contract.outcome import Outcome, Reason
    from onboarding_client.contract.request import OnboardingOptions, RetrySchedule
    from onboarding_client.contract.result import OnboardingResult
    from onboarding_client.contract.status import Stage
    from workflows.calls import Calls
    from workflows.progress import Progress


class Finished(Exception):
    """Unwinds the workflow to `run` with its result; never leaves the workflow."""

    def __init__(self, result: OnboardingResult) -> None:
        super().__init__(result.outcome)
        self.result = result


class Journey:
    """One onboarding's shared context; each step takes its calls from it."""

    def __init__(self) -> None:
        self.progress = Progress()
        self.options = OnboardingOptions()  # the request's, once it is read
        self.retry_now = False  # an operator says: retry now, not at the next timer

    def calls_until(self, deadline: float) -> Calls:
        """Calls bounded by `deadline` (epoch seconds)."""
        return Calls(self, deadline)

    def calls_for(self, seconds: float) -> Calls:
        """Calls bounded by a budget of `seconds` from now: a step's own."""
        return self.calls_until(workflow.now().timestamp() + seconds)

    def finish(self, outcome: Outcome, code: str, message: str) -> NoReturn:
        """End the onboarding now with `outcome` and one reason."""
        raise Finished(self.progress.result(outcome, code, message))

    # --- what a call shows while an operator must act (calls.OperatorDesk) --------------

    def waits(self, stage: Stage) -> RetrySchedule:
        if stage is Stage.BLOCKED_LOCKED:
            return self.options.locked_retry
        return self.options.configuration_retry

    def stage(self) -> Stage:
        return self.progress.status.stage

    def block(self, reason: Reason, stage: Stage) -> None:
        self.progress.block(reason, stage)

    def unblock(self, stage: Stage) -> None:
        self.progress.unblock(stage)

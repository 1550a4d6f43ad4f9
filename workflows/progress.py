"""Where an onboarding is, as operators see it: the `status` query's answer, the
`OnboardingStage` search attribute, the Web UI's current details, and the memo while an
operator must act. Deterministic: called from workflow code only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from onboarding_client.contract.names import STAGE_ATTRIBUTE
    from onboarding_client.contract.outcome import Outcome, Reason
    from onboarding_client.contract.result import OnboardingResult
    from onboarding_client.contract.status import OnboardingStatus, Stage
    from workflows.details import current_details


class Progress:
    def __init__(self) -> None:
        self.status = OnboardingStatus(stage=Stage.VALIDATING)
        # Keys that ride with the next stage's upsert, instead of an upsert of their own.
        self._deferred: list[SearchAttributeUpdate[Any]] = []

    def defer(self, update: SearchAttributeUpdate[Any]) -> None:
        """Set with the next upsert (the latest value of a key wins)."""
        self._deferred = [u for u in self._deferred if u.key != update.key] + [update]

    def show(self, **extra: Any) -> None:
        """The current details, in words (they cost no history)."""
        workflow.set_current_details(current_details(self.status, **extra))

    def enter(self, stage: Stage, *also: SearchAttributeUpdate[Any]) -> None:
        """A new stage: searchable at once (one upsert, with `also` and the deferred keys
        in it), and in the details."""
        if self.status.stage != stage:
            self.status.stage = stage
            updates = [STAGE_ATTRIBUTE.value_set(stage.value), *self._deferred, *also]
            self._deferred = []
            workflow.upsert_search_attributes(updates)
        self.show()

    def pass_through(self, stage: Stage) -> None:
        """A stage that lasts a moment: in the status query and the details, not searchable
        (an upsert costs an action; a block makes its own)."""
        self.status.stage = stage
        self.show()

    def show_next_read(self, seconds: float) -> None:
        next_read_at = workflow.now() + timedelta(seconds=seconds)
        self.show(next_read_at=next_read_at)

    def block(self, reason: Reason, stage: Stage) -> None:
        """An operator must act: the error that blocks goes to the memo, once."""
        if self.status.blocked_by != reason:
            self.status.blocked_by = reason
            workflow.upsert_memo({"blocked_by": reason.model_dump()})
        self.enter(stage)

    def unblock(self, stage: Stage) -> None:
        self.status.blocked_by = None
        workflow.upsert_memo({"blocked_by": None})
        self.enter(stage)

    def result(self, outcome: Outcome, code: str, message: str) -> OnboardingResult:
        """A result with one reason and what is known of the Unico process so far."""
        status = self.status
        return OnboardingResult(
            outcome=outcome,
            reasons=[Reason(code=code, message=message)],
            process_id=status.process_id,
            unico_status=status.unico_status,
            attempts=status.attempts,
            ambiguous_creates=status.ambiguous_creates,
            selfie=status.selfie,
        )

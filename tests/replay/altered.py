"""Deliberately changed copies of the Onboarding workflow, for the replay tests only.

Each registers under the same workflow type and differs in one plausible-looking way:

- `OnboardingWithoutTokenWarmUp` skips warming the token cache (`acquire_token`) before
  creating the Unico process;
- `OnboardingUnguardedPatch` makes the `stage-at-start` change without `workflow.patched`;
- `OnboardingUnguardedReview` makes the `review-step` change without `workflow.patched`;
- `OnboardingWithoutAccountStep` rolls the account step back (an approval ends there);
- `OnboardingWithoutMfaStep` rolls the MFA step back;
- `OnboardingUnguardedLean` makes the `lean-commands` change without `workflow.patched`;
- `OnboardingUnguardedLeanHistory` makes the `lean-history` change without `workflow.patched`;
- `OnboardingUnguardedSelfieWithLastCall` makes the `selfie-with-last-call` change without
  `workflow.patched`.

The commands they issue differ from the recorded ones, so replaying the committed corpus
must catch them: this proves that the corpus guards against such changes.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.models import Carry, OnboardingRequest, OnboardingResult, Outcome, Stage
    from workflows.names import STAGE_ATTRIBUTE, WORKFLOW_TYPE
    from workflows.onboarding import Onboarding


class _WithoutTokenWarmUp(Onboarding):
    async def _authenticate(self) -> None:
        # The change: "create_process gets a token anyway", so no acquire_token.
        self._progress.enter(Stage.AUTHENTICATING)


class _UnguardedPatch(Onboarding):
    def _mark_validating(self) -> None:  # the change, without `workflow.patched`
        workflow.upsert_search_attributes([STAGE_ATTRIBUTE.value_set(Stage.VALIDATING.value)])


class _UnguardedReview(Onboarding):
    def _reviewable(self, decided: OnboardingResult) -> bool:
        # The change, without `workflow.patched`: every `review` asks whether to wait.
        return decided.outcome is Outcome.REVIEW


class _WithoutAccountStep(Onboarding):
    async def _register(
        self, request: OnboardingRequest, approved: OnboardingResult
    ) -> OnboardingResult:
        return approved  # the change: a deploy that drops the step


class _WithoutMfaStep(Onboarding):
    async def _enroll(
        self, request: OnboardingRequest, approved: OnboardingResult
    ) -> OnboardingResult:
        return approved  # the change: a deploy that drops the step


class _UnguardedLean(Onboarding):
    def _lean_path(self) -> bool:
        return True  # the change, without `workflow.patched`


class _UnguardedLeanHistory(Onboarding):
    def _lean_path(self) -> bool:
        self._implied = True  # the change, without `workflow.patched`
        return True


class _UnguardedSelfieWithLastCall(Onboarding):
    def _lean_path(self) -> bool:
        self._implied = self._with_last_call = True  # the change, without `workflow.patched`
        return True


# Temporal wants the run method declared on the registered class itself; the handlers
# (query, signals, updates) come with the base class.


@workflow.defn(name=WORKFLOW_TYPE)
class OnboardingWithoutTokenWarmUp(_WithoutTokenWarmUp):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)


@workflow.defn(name=WORKFLOW_TYPE)
class OnboardingUnguardedPatch(_UnguardedPatch):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)


@workflow.defn(name=WORKFLOW_TYPE)
class OnboardingUnguardedReview(_UnguardedReview):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)


@workflow.defn(name=WORKFLOW_TYPE)
class OnboardingWithoutAccountStep(_WithoutAccountStep):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)


@workflow.defn(name=WORKFLOW_TYPE)
class OnboardingWithoutMfaStep(_WithoutMfaStep):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)


@workflow.defn(name=WORKFLOW_TYPE)
class OnboardingUnguardedLean(_UnguardedLean):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)


@workflow.defn(name=WORKFLOW_TYPE)
class OnboardingUnguardedLeanHistory(_UnguardedLeanHistory):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)


@workflow.defn(name=WORKFLOW_TYPE)
class OnboardingUnguardedSelfieWithLastCall(_UnguardedSelfieWithLastCall):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)

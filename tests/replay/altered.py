"""Deliberately changed copies of the Onboarding workflow, for the replay tests only.

Each registers under the same workflow type and differs in one plausible-looking way:

- `OnboardingWithoutTokenWarmUp` skips warming the token cache (`acquire_token`) before
  creating the Unico process;
- `OnboardingUnguardedPatch` makes the `stage-at-start` change without `workflow.patched`;
- `OnboardingUnguardedReview` makes the `review-step` change without `workflow.patched`.

The commands they issue differ from the recorded ones, so replaying the committed corpus
must catch them: this proves that the corpus guards against such changes.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.models import Carry, OnboardingResult, OnboardingStatus, Outcome, Stage
    from workflows.names import STAGE_ATTRIBUTE, STATUS_QUERY, WEBHOOK_SIGNAL, WORKFLOW_TYPE
    from workflows.onboarding import Onboarding


class _WithoutTokenWarmUp(Onboarding):
    async def _authenticate(self) -> None:
        # The change: "create_process gets a token anyway", so no acquire_token.
        self._progress.enter(Stage.AUTHENTICATING)


class _UnguardedPatch(Onboarding):
    def _mark_validating(self) -> None:  # the change, without `workflow.patched`
        workflow.upsert_search_attributes([STAGE_ATTRIBUTE.value_set(Stage.VALIDATING.value)])


class _UnguardedReview(Onboarding):
    async def _onboard(self, raw: Any, carry: Carry | None) -> OnboardingResult:
        request = self._validate(raw, first_run=carry is None)
        if carry:
            process = self._resume(carry)
        else:
            self._calls.deadline = workflow.now().timestamp() + request.options.deadline_seconds
            await self._check_selfie(request.selfie_ref)
            await self._authenticate()
            process = await self._create(request)
        result = await self._decide(request, process)
        # The change, without `workflow.patched`: every `review` asks whether to wait.
        if result.outcome is Outcome.REVIEW and await self._review_wanted(request):
            return await self._review(request, result)
        return result


# Temporal wants the run method, query and signal declared on the registered class itself.


@workflow.defn(name=WORKFLOW_TYPE)
class OnboardingWithoutTokenWarmUp(_WithoutTokenWarmUp):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> OnboardingStatus:
        return super().status()

    @workflow.signal(name=WEBHOOK_SIGNAL)
    def unico_webhook(self, notification: Any = None) -> None:
        super().unico_webhook(notification)


@workflow.defn(name=WORKFLOW_TYPE)
class OnboardingUnguardedPatch(_UnguardedPatch):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> OnboardingStatus:
        return super().status()

    @workflow.signal(name=WEBHOOK_SIGNAL)
    def unico_webhook(self, notification: Any = None) -> None:
        super().unico_webhook(notification)


@workflow.defn(name=WORKFLOW_TYPE)
class OnboardingUnguardedReview(_UnguardedReview):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> OnboardingStatus:
        return super().status()

    @workflow.signal(name=WEBHOOK_SIGNAL)
    def unico_webhook(self, notification: Any = None) -> None:
        super().unico_webhook(notification)

"""Deliberately changed copies of the Onboarding workflow, for the replay and deploy tests.

Each registers under the same workflow type and differs in one plausible-looking way:

- `OnboardingWithAPause` waits a moment before it reads the request (a timer every run
  would issue first): a change to the commands of every history;
- `OnboardingWithoutAccountStep` rolls the account step back (an approval ends there);
- `OnboardingWithoutMfaStep` rolls the MFA step back.

The commands they issue differ from the recorded ones, so replaying the corpus must catch
them; and a run pinned to a build must never meet them (tests/e2e/test_deploy.py).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import VersioningBehavior

with workflow.unsafe.imports_passed_through():
    from onboarding_client.contract.names import WORKFLOW_TYPE
    from onboarding_client.contract.request import OnboardingRequest
    from onboarding_client.contract.result import OnboardingResult
    from onboarding_client.contract.status import Carry
    from workflows.onboarding import Onboarding
    from workflows.steps.account import AccountStep
    from workflows.steps.mfa import MfaStep


class _WithAPause(Onboarding):
    async def _onboard(self, raw: Any, carry: Carry | None) -> OnboardingResult:
        await workflow.sleep(0.001, summary="the change: a pause first")
        return await super()._onboard(raw, carry)


class _NoAccountStep(AccountStep):
    def wanted(self, request: OnboardingRequest, result: OnboardingResult) -> bool:
        return False  # the change: a deploy that drops the step


class _WithoutAccountStep(Onboarding):
    def __init__(self) -> None:
        super().__init__()
        self._account = _NoAccountStep(self._journey)


class _NoMfaStep(MfaStep):
    def wanted(self, request: OnboardingRequest, result: OnboardingResult) -> bool:
        return False  # the change: a deploy that drops the step


class _WithoutMfaStep(Onboarding):
    def __init__(self) -> None:
        super().__init__()
        self._mfa = _NoMfaStep(self._journey)


@workflow.defn(name=WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.PINNED)
class OnboardingWithAPause(_WithAPause):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)


@workflow.defn(name=WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.PINNED)
class OnboardingWithoutAccountStep(_WithoutAccountStep):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)


@workflow.defn(name=WORKFLOW_TYPE, versioning_behavior=VersioningBehavior.PINNED)
class OnboardingWithoutMfaStep(_WithoutMfaStep):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)

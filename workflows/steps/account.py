"""The account step: the approved person's record in Identity Cloud, created or adopted.

It runs when the identity outcome is `approved` and the request asks for it, with a time
budget of its own (a review may have outlasted the onboarding's deadline). A failure ends
the step `failed`, never the approval.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from contracts.account import RegisterAccountInput, register_account
    from onboarding_client.contract.outcome import Outcome, Reason
    from onboarding_client.contract.request import OnboardingRequest
    from onboarding_client.contract.result import AccountResult, AccountStatus, OnboardingResult
    from onboarding_client.contract.status import Stage
    from workflows.calls import CallFailed, DeadlinePassed
    from workflows.journey import Journey


class AccountStep:
    def __init__(self, journey: Journey) -> None:
        self._journey = journey

    def wanted(self, request: OnboardingRequest, result: OnboardingResult) -> bool:
        return result.outcome is Outcome.APPROVED and request.options.account.wanted

    async def run(self, request: OnboardingRequest, approved: OnboardingResult) -> OnboardingResult:
        self._journey.progress.pass_through(Stage.REGISTERING)
        calls = self._journey.calls_for(request.options.account.deadline_seconds)
        person = RegisterAccountInput(request_id=request.request_id, subject=request.subject)
        try:
            account = await calls.run(
                register_account,
                person,
                "register the approved person's account in Identity Cloud",
            )
        except CallFailed as failed:
            account = AccountResult(status=AccountStatus.FAILED, reason=failed.reason)
        except DeadlinePassed:
            why = Reason(code="account.deadline", message="no account before the step's deadline")
            account = AccountResult(status=AccountStatus.FAILED, reason=why)
        return approved.model_copy(update={"account": account})

"""A deliberately changed copy of the Onboarding workflow, for the replay tests only.

It registers under the same workflow type and differs in one plausible-looking way: it
skips warming the token cache (`acquire_token`) before creating the Unico process. The
commands it issues differ from the recorded ones, so the replay of the committed corpus
must catch it: this proves that the corpus guards against such a change.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.models import (
        STATUS_QUERY,
        WEBHOOK_SIGNAL,
        WORKFLOW_TYPE,
        Carry,
        OnboardingResult,
        OnboardingStatus,
        TokenInfo,
    )
    from workflows.onboarding import Onboarding

T = TypeVar("T")


@workflow.defn(name=WORKFLOW_TYPE)
class OnboardingWithoutTokenWarmUp(Onboarding):
    @workflow.run
    async def run(self, raw: Any, carry: Carry | None = None) -> OnboardingResult:
        return await super().run(raw, carry)

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> OnboardingStatus:
        return super().status()

    @workflow.signal(name=WEBHOOK_SIGNAL)
    def unico_webhook(self, notification: Any = None) -> None:
        super().unico_webhook(notification)

    async def _call(self, name: str, arg: Any, result_type: type[T], summary: str) -> T:
        if name == "acquire_token":  # the change: "create_process gets a token anyway"
            return cast(T, TokenInfo(expires_in_seconds=3600, refreshed=False))
        return await super()._call(name, arg, result_type, summary)

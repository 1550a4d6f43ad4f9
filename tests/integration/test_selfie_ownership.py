"""A selfie is deleted only by the onboarding it belongs to; what nobody will delete is swept.

The session's real worker, the sandbox over HTTP and the real selfie store: a request that
names another onboarding's selfie (refused for its CPF, or valid) deletes nothing of it; a
typo fixed and started again finds its upload; a terminated onboarding's selfie and an
upload nobody claimed go with the sweep, and a running onboarding's selfie stays.
"""

from __future__ import annotations

import time
from functools import partial

from temporalio.client import Client

from activities.selfies.local_store import SelfieStore
from activities.selfies.sweeper import SelfieSweeper
from devstack.watch import until_stage
from onboarding.runtime.settings import Settings
from onboarding.temporal.client import onboarding_open
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.status import Stage
from onboarding_client.onboardings import start_onboarding
from tests.integration.onboard import request

SYNC_CPF, ASYNC_CPF, INVALID_CPF = "12345678909", "00000000272", "12345678900"
HOUR = 3600.0


def naming(selfie_ref: str, cpf: str, selfies: SelfieStore) -> OnboardingRequest:
    """A request of its own that names `selfie_ref` (its own upload is dropped)."""
    other: OnboardingRequest = request(selfies, cpf)
    selfies.delete(other.selfie_ref)
    return other.model_copy(update={"selfie_ref": selfie_ref})


async def test_a_refused_request_leaves_another_onboarding_s_selfie_alone(
    client: Client, settings: Settings, selfies: SelfieStore
) -> None:
    rightful = request(selfies, ASYNC_CPF)  # Unico scores it after a while: it waits
    handle = await start_onboarding(client, rightful, settings.task_queue)
    await until_stage(handle, Stage.WAITING)
    for cpf in (INVALID_CPF, SYNC_CPF):  # refused before any call; then a valid one
        stranger = naming(rightful.selfie_ref, cpf, selfies)
        result = await (await start_onboarding(client, stranger, settings.task_queue)).result()
        assert result.outcome == Outcome.INVALID_REQUEST
        assert selfies.exists(rightful.selfie_ref), f"a stranger ({cpf}) deleted it"
    assert result.reasons[0].code == "unico.20009"
    assert (await handle.result()).outcome == Outcome.APPROVED


async def test_a_typo_fixed_and_started_again_finds_its_upload(
    client: Client, settings: Settings, selfies: SelfieStore
) -> None:
    typo = request(selfies, INVALID_CPF)
    refused = await (await start_onboarding(client, typo, settings.task_queue)).result()
    assert refused.outcome == Outcome.INVALID_REQUEST
    assert selfies.exists(typo.selfie_ref), "nobody claimed it: it waits for its caller"
    fixed = naming(typo.selfie_ref, SYNC_CPF, selfies)
    result = await (await start_onboarding(client, fixed, settings.task_queue)).result()
    assert result.outcome == Outcome.APPROVED
    assert not selfies.exists(fixed.selfie_ref), "its owner deleted it"


async def test_the_sweep_takes_what_no_onboarding_will_delete(
    client: Client, settings: Settings, selfies: SelfieStore
) -> None:
    never_claimed = request(selfies, SYNC_CPF).selfie_ref
    running, terminated = request(selfies, ASYNC_CPF), request(selfies, ASYNC_CPF)
    handles = [
        await start_onboarding(client, started, settings.task_queue)
        for started in (running, terminated)
    ]
    for handle in handles:
        await until_stage(handle, Stage.WAITING)  # claimed, and not yet settled
    await handles[1].terminate("an operator gave up on it")
    sweeper = SelfieSweeper(selfies, partial(onboarding_open, client), unclaimed_seconds=HOUR)

    # Young selfies are never looked at: they may be on their way to an onboarding.
    await sweeper.sweep()
    assert all(selfies.exists(r) for r in (never_claimed, running.selfie_ref))
    swept = await sweeper.sweep(now=time.time() + HOUR + 1)
    assert not selfies.exists(never_claimed)
    assert not selfies.exists(terminated.selfie_ref)
    assert selfies.exists(running.selfie_ref), "its onboarding still runs"
    # Other tests' uploads share the store: at least these two went, by their kind.
    assert swept.unclaimed >= 1 and swept.abandoned >= 1
    assert (await handles[0].result()).outcome == Outcome.APPROVED

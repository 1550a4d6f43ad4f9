"""The account step for real: the worker's `register_account` against the sandbox's entity
API over HTTP (Basic auth, form bodies, HTTP 200 with `stat`), on the session's server.

Each test makes a person of its own (a valid CPF nobody else uses), so the records the
sandbox holds can be counted per onboarding: exactly one, whatever went wrong on the way.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.selfies.local_store import SelfieStore
from devstack.watch import until_stage
from onboarding_client.contract.cpf import cpf_with_check_digits
from onboarding_client.contract.names import RETRY_NOW_SIGNAL
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.result import AccountStatus, OnboardingResult
from onboarding_client.contract.status import Stage
from onboarding_client.onboardings import start_onboarding
from tests.integration.onboard import request
from tests.support import IDENTITY_CLOUD_SECRET, Sandbox

SEEDED_CPF, SEEDED_EMAIL = "11144477735", "ana.existing@example.com"
PROVENANCE = "onboardingRequestId"
_people = itertools.count(random.randrange(10**6, 10**8))


def new_person() -> str:
    """A valid CPF no other onboarding of this run has: the sandbox approves it at once."""
    return cpf_with_check_digits(f"{next(_people):09d}")


def records_of(sandbox: Sandbox, cpf: str) -> list[dict[str, Any]]:
    return [record for record in sandbox.records() if record.get("cpf") == cpf]


async def onboard(
    client: Client, settings: Any, selfies: SelfieStore, cpf: str, **subject: str
) -> tuple[OnboardingResult, str]:
    onboarding = request(selfies, cpf, account={"register": True})
    changed = onboarding.subject.model_copy(update=subject)
    onboarding = onboarding.model_copy(update={"subject": changed})
    handle = await start_onboarding(client, onboarding, settings.task_queue)
    return await handle.result(), onboarding.request_id


@pytest.fixture(autouse=True)
def clean_faults(sandbox: Sandbox) -> Any:
    yield
    sandbox.clear_faults()
    sandbox.configure(identity_cloud_client_secret=IDENTITY_CLOUD_SECRET)


async def test_an_approved_person_gets_one_record_with_provenance(
    client: Client, settings: Any, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    cpf = new_person()
    result, request_id = await onboard(
        client, settings, selfies, cpf, email=f"{cpf}@example.com", phone="+5511912340000"
    )
    assert result.outcome == Outcome.APPROVED
    assert result.account is not None and result.account.status is AccountStatus.REGISTERED
    [record] = records_of(sandbox, cpf)
    assert result.account.uuid == record["uuid"]
    assert record[PROVENANCE] == request_id
    assert (record["displayName"], record["email"]) == ("Maria Silva", f"{cpf}@example.com")
    assert record["mobileNumber"] == "5511912340000"


async def test_the_person_s_existing_record_is_adopted_not_duplicated(
    client: Client, settings: Any, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    before = len(sandbox.records())
    result, _ = await onboard(client, settings, selfies, SEEDED_CPF, email="ana@example.com")
    assert result.outcome == Outcome.APPROVED
    assert result.account is not None and result.account.status is AccountStatus.EXISTING
    assert result.account.reason is not None and result.account.reason.code == "account.existing"
    [seeded] = records_of(sandbox, SEEDED_CPF)
    assert result.account.uuid == seeded["uuid"]
    assert seeded["email"] == SEEDED_EMAIL, "the existing record is not overwritten"
    assert len(sandbox.records()) == before


async def test_an_e_mail_held_by_another_person_fails_the_step_with_its_code(
    client: Client, settings: Any, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    cpf = new_person()
    result, _ = await onboard(client, settings, selfies, cpf, email=SEEDED_EMAIL.upper())
    assert result.outcome == Outcome.APPROVED, "a failed step never undoes the approval"
    assert result.account is not None and result.account.status is AccountStatus.FAILED
    assert result.account.reason is not None
    assert result.account.reason.code == "identity_cloud.361"
    assert SEEDED_EMAIL not in result.account.reason.message.lower()
    assert records_of(sandbox, cpf) == []
    [seeded] = records_of(sandbox, SEEDED_CPF)
    assert seeded["email"] == SEEDED_EMAIL


async def test_a_create_whose_answer_was_lost_is_adopted_as_ours(
    client: Client, settings: Any, selfies: SelfieStore, sandbox: Sandbox
) -> None:
    """The record is made, the connection drops: the retried create meets 361, and the
    record found by the CPF carries this onboarding's request id."""
    cpf = new_person()
    sandbox.inject({"endpoint": "entity.create", "drop_connection": True})
    result, request_id = await onboard(client, settings, selfies, cpf, email=f"{cpf}@example.com")
    assert result.account is not None and result.account.status is AccountStatus.REGISTERED
    assert result.account.reason is not None and result.account.reason.code == "account.adopted"
    [record] = records_of(sandbox, cpf)
    assert (record[PROVENANCE], record["uuid"]) == (request_id, result.account.uuid)


@pytest.mark.parametrize(
    "rule",
    [
        {"endpoint": "entity.create", "code": 510, "times": 3},
        {"endpoint": "entity.create", "code": 500, "times": 2},
        {"endpoint": "entity.create", "code": 540, "times": 1},
        {"endpoint": "entity.create", "status": 503, "times": 2},  # a proxy's page, not JSON
        {"endpoint": "entity", "code": 510, "times": 2, "after_create_drop": True},
    ],
    ids=["510 storm", "500", "540", "proxy 503", "510 on the lookup"],
)
async def test_the_service_s_own_failures_are_retried(
    client: Client, settings: Any, selfies: SelfieStore, sandbox: Sandbox, rule: dict[str, Any]
) -> None:
    cpf = new_person()
    rules = [{k: v for k, v in rule.items() if k != "after_create_drop"}]
    if rule.get("after_create_drop"):  # so that the step must look the record up
        rules.insert(0, {"endpoint": "entity.create", "drop_connection": True})
    sandbox.inject(*rules)
    result, _ = await onboard(client, settings, selfies, cpf, email=f"{cpf}@example.com")
    assert result.account is not None and result.account.status is AccountStatus.REGISTERED
    assert len(records_of(sandbox, cpf)) == 1


async def test_a_rotated_secret_blocks_until_the_worker_has_the_new_one(
    env: WorkflowEnvironment,
    client: Client,
    settings: Any,
    selfies: SelfieStore,
    sandbox: Sandbox,
) -> None:
    """402 is configuration: blocked, not failed. Here the sandbox takes the old secret back
    (as an operator would restore it) and `retry_now` heals the onboarding at once."""
    cpf = new_person()
    sandbox.configure(identity_cloud_client_secret="rotated-elsewhere")
    onboarding = request(
        selfies,
        cpf,
        account={"register": True},
        configuration_retry={"initial_seconds": 3600, "max_seconds": 3600},
    )
    with env.with_time_skipping_disabled():  # the block must wait for the operator
        handle = await start_onboarding(client, onboarding, settings.task_queue)
        status = await until_stage(handle, Stage.BLOCKED_CONFIGURATION, seconds=60)
        assert status.blocked_by is not None and status.blocked_by.code == "identity_cloud.402"
        sandbox.configure(identity_cloud_client_secret=IDENTITY_CLOUD_SECRET)
        await handle.signal(RETRY_NOW_SIGNAL)
        result = await handle.result()
    assert result.account is not None and result.account.status is AccountStatus.REGISTERED
    assert len(records_of(sandbox, cpf)) == 1

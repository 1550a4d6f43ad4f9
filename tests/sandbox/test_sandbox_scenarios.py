"""The scenario CPFs: the stand-in's answers, read by our policy, end as our table says.

The sandbox holds what Unico answers per CPF (`sandbox/unico/cpf_scenarios.py`); ours holds
what each must end as (`devstack/scenarios.py`, which the demo, the replay cases and the
docs use). This test ties the two through `policy.decide`, so neither copies the other.
"""

from __future__ import annotations

import httpx
import pytest

from contracts.unico import UnicoProcess
from devstack.scenarios import SCENARIOS, Scenario
from sandbox.unico.cpf_scenarios import SCENARIOS as SANDBOX_SCENARIOS
from tests.sandbox.client import bearer, client_for, create_body, make_config
from workflows.policy import decide


def test_both_tables_name_the_same_cpfs() -> None:
    assert [s.cpf for s in SCENARIOS] == list(SANDBOX_SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.cpf for s in SCENARIOS])
async def test_each_cpf_ends_as_our_table_says(scenario: Scenario) -> None:
    async with client_for(make_config(async_delay_seconds=0.0)) as client:
        auth = await bearer(client)
        created = await client.post("/processes/v1", json=create_body(scenario.cpf), headers=auth)
        final = await client.get(f"/processes/v1/{created.json()['id']}", headers=auth)
    decision = decide(UnicoProcess.model_validate(final.json()))
    # A decision that asks for a new process gets the same answer every time: it stands.
    assert decision.outcome == scenario.expected, scenario.unico_behaviour
    assert decision.reasons, "every decision says why"


async def test_an_unlisted_cpf_is_approved_at_once() -> None:
    async with client_for(make_config()) as client:
        auth = await bearer(client)
        created = await client.post("/processes/v1", json=create_body("52998224725"), headers=auth)
    assert isinstance(created, httpx.Response)
    assert decide(UnicoProcess.model_validate(created.json())).outcome == "approved"

"""The account step as the workflow sees it: one activity on the Identity Cloud task queue."""

from __future__ import annotations

from pydantic import BaseModel

from contracts.activity import contract, not_called
from onboarding_client.contract.request import Subject
from onboarding_client.contract.result import AccountResult

IDENTITY_CLOUD = "identity-cloud"


class RegisterAccountInput(BaseModel):
    """What the account step sends: the person, and the onboarding as provenance."""

    request_id: str
    subject: Subject


@contract("register_account", system=IDENTITY_CLOUD)
async def register_account(person: RegisterAccountInput) -> AccountResult:
    """Create the person's record in Identity Cloud, or adopt the one that holds the CPF."""
    raise not_called("register_account")

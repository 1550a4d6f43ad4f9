"""The account step's activity: the approved person's record in Identity Cloud, exactly once.

`entity.create` has no idempotency key, so "exactly once" rests on the person's unique key:
the CPF is a unique attribute, and a create that meets a record holding it is refused with
361 (class `already_exists`). Then the record is read by that key (`/entity` reads at once;
`entity.find` lags behind creates, so it is never used for this) and adopted: ours, from an
earlier attempt whose answer was lost (its provenance attribute is this onboarding's request
id), or the person's existing account. When no record holds the CPF, another unique value
clashed (an e-mail on another person's record): the step fails with that code, and nothing
is overwritten. So a retried create is safe, and no path makes a second record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from temporalio.exceptions import ApplicationError

from activities.errors import carried_details
from activities.identity_cloud.entity_api import EntityApi
from activities.identity_cloud.errors import IDENTITY_CLOUD_ERRORS
from activities.identity_cloud.mapping import AttributeMapping
from contracts.account import RegisterAccountInput, register_account
from contracts.activity import implements
from onboarding_client.contract.errors import ErrorClass
from onboarding_client.contract.outcome import Reason
from onboarding_client.contract.result import AccountResult, AccountStatus

NOT_CONFIGURED = (
    "Identity Cloud is not configured: set IDENTITY_CLOUD_URL, IDENTITY_CLOUD_CLIENT_ID and "
    "IDENTITY_CLOUD_CLIENT_SECRET (or _FILE) on the workers"
)


class AccountActivities:
    def __init__(self, api: EntityApi | None, mapping: AttributeMapping) -> None:
        self._api = api  # None: the deployment has no Identity Cloud settings
        self._mapping = mapping

    def all(self) -> Sequence[Callable[..., Any]]:
        return [self.register_account]

    @implements(register_account)
    async def register_account(self, request: RegisterAccountInput) -> AccountResult:
        """Create the person's record, or adopt the one that holds their CPF."""
        if self._api is None:
            # An operator must act: the onboarding waits in blocked_configuration.
            raise ApplicationError(NOT_CONFIGURED, type=ErrorClass.CONFIGURATION.value)
        attributes = self._mapping.attributes(request)
        try:
            created = await self._api.call("entity.create", attributes=attributes)
        except ApplicationError as refused:
            if refused.type != ErrorClass.ALREADY_EXISTS:
                raise
            return await self._adopt(request, refused)
        return AccountResult(status=AccountStatus.REGISTERED, uuid=str(created["uuid"]))

    async def _adopt(self, request: RegisterAccountInput, clash: ApplicationError) -> AccountResult:
        assert self._api is not None
        try:
            found = await self._api.call(
                "entity",
                key_attribute=self._mapping.key_attribute,
                key_value=json.dumps(request.subject.code),
            )
        except ApplicationError as missing:
            if missing.type != ErrorClass.NOT_FOUND:
                raise
            raise _taken_by_another(clash) from None
        result = found.get("result")
        record: dict[str, Any] = result if isinstance(result, dict) else {}
        uuid = str(record.get("uuid")) if record.get("uuid") else None
        if self._mapping.provenance(record) == request.request_id:
            why = "an earlier attempt of this onboarding created it; adopted"
            reason = Reason(code="account.adopted", message=why)
            return AccountResult(status=AccountStatus.REGISTERED, uuid=uuid, reason=reason)
        why = "the person already had an account: adopted, not duplicated"
        reason = Reason(code="account.existing", message=why)
        return AccountResult(status=AccountStatus.EXISTING, uuid=uuid, reason=reason)


def _taken_by_another(clash: ApplicationError) -> ApplicationError:
    """No record holds the CPF, so the 361 was another unique value: the person's to fix."""
    carried = carried_details(clash)
    code = carried[0].code if carried else None
    message = (
        f"{IDENTITY_CLOUD_ERRORS.name} {code or 'unique_violation'}: another person's record "
        "holds a unique value of this one (the e-mail); nothing was created or changed"
    )
    details = {
        "system": IDENTITY_CLOUD_ERRORS.name,
        "code": code,
        "message": message,
        "class": "invalid_request",
    }
    return ApplicationError(message, details, type=ErrorClass.INVALID_REQUEST.value)

"""An input that reached the worker in clear, and how the onboarding forgets it.

A caller that forgets the codec writes the person's data into the server's history in
clear. The worker's codec does not pass such a payload on: it drops the content and marks
the payload `binary/unsealed` (`onboarding/temporal/converter.py`), which the workflow
receives as an `Unsealed`. The onboarding ends at once `invalid_request` with reason
`request.not_encrypted`, calling no one, and leaves a `ForgetRun` workflow that deletes its
run (history and all) once the caller has had `FORGET_AFTER` to read why.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from contracts.activity import contract, not_called

# The encoding of a payload that came in clear; its original encoding, in this metadata key.
UNSEALED_ENCODING = b"binary/unsealed"
ORIGINAL_ENCODING = "unsealed-encoding"
NOT_ENCRYPTED = "request.not_encrypted"
FORGET_WORKFLOW_TYPE = "ForgetRun"
FORGET_ID_PREFIX = "forget-"
# Long enough for a caller waiting on the result or the decision (they get it as the run
# ends) and one that reads it right after; short, since every second the data stays.
FORGET_AFTER_SECONDS = 30.0


@dataclass(frozen=True)
class Unsealed:
    """A value that reached the worker unencrypted; its content was never decoded."""

    encoding: str


class RunToForget(BaseModel):
    workflow_id: str
    run_id: str


@contract("forget_run")
async def forget_run(run: RunToForget) -> None:
    """Delete a run and its history from the server; one already gone passes. (The server
    deletes a closed run only while it is its workflow's latest: hence no continue-as-new.)"""
    raise not_called("forget_run")

"""Unico's process API as the workflow sees it: the process, and the two activities that
call it (`open_process`, `read_process`) on the Unico task queue.

Unico's own camelCase shapes appear only in `UnicoProcess`, which parses the answers of
`POST /processes/v1` and `GET /processes/v1/{id}`.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.activity import contract, not_called
from contracts.selfies import SelfieRelease
from onboarding_client.contract.request import SelfieKind, Subject

# The remote system: its calls run on `<task queue>-unico`, under the fleet's budget.
UNICO = "unico"


class ProcessStatus(IntEnum):
    """Unico's process status codes."""

    PROCESSING = 1
    IN_ANALYSIS = 2
    FINISHED = 3
    CANCELED = 4
    ERROR = 5


FINAL_STATUSES = frozenset({ProcessStatus.FINISHED, ProcessStatus.CANCELED, ProcessStatus.ERROR})


class UnicoResult(BaseModel):
    result: Literal["yes", "no", "inconclusive"] | str


class Government(BaseModel):
    serpro: int | None = None


class UnicoProcess(BaseModel):
    """A `POST /processes/v1` or `GET /processes/v1/{id}` answer."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str
    status: int
    unico_id: UnicoResult | None = Field(default=None, alias="unicoId")
    liveness: int | None = None
    identity_fraudsters: UnicoResult | None = Field(default=None, alias="identityFraudsters")
    score: int | None = None
    government: Government | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_settled(self) -> bool:
        """Final, and no decision on it asks for a new process, so no create needs the
        selfie again: the policy retries only status 5 and an inconclusive answer whose
        score never came (a test keeps the two in step)."""
        if self.status == ProcessStatus.CANCELED:
            return True
        if self.status != ProcessStatus.FINISHED:
            return False
        inconclusive = self.unico_id is not None and self.unico_id.result == "inconclusive"
        return not (inconclusive and self.liveness != 2 and self.score is None)


class CreateProcessInput(BaseModel):
    subject: Subject
    use_case: str
    subsidiary_id: str | None
    selfie_ref: str
    # A reviewer will see the image: the call that settles the process keeps it sealed.
    # None: as the deployment reviews by default (REVIEW_BY_DEFAULT, which the worker knows).
    keep_evidence: bool | None = False


class SelfieCheck(BaseModel):
    """What the selfie's inspection found: `code` is the Unico code it stands for."""

    ok: bool
    code: int | None = None
    message: str | None = None
    # The capture of Unico's SDK (sealed for Unico: sent as it is), not a plain image.
    capture: bool = False


class OpenedProcess(BaseModel):
    """`open_process`'s answer: the selfie refused before any call (`refused`), or the
    process Unico created, and the selfie's end when that answer settled the process."""

    refused: SelfieCheck | None = None
    process: UnicoProcess | None = None
    release: SelfieRelease | None = None
    # Creates of earlier attempts that left and whose answer nobody saw (a worker killed
    # while one was out): Unico may hold a process for each.
    unanswered_creates: int = 0
    # What Unico was given: a plain image, or a capture of its SDK (liveness checked).
    selfie_kind: SelfieKind | None = None
    # With Unico's webhook configured (UNICO_WEBHOOKS), how long the first read waits for it:
    # the deployment's, answered with the process so that a replay waits as the run did.
    first_read_after_seconds: float | None = None


class ReadProcessInput(BaseModel):
    """`read_process`: the process to read, and the selfie it releases once settled."""

    process_id: str
    selfie_ref: str
    keep_evidence: bool | None = False  # as `CreateProcessInput.keep_evidence`


class ReadProcess(BaseModel):
    """`read_process`'s answer: the process, and the selfie's end if the answer settled it
    (None: the selfie stays, for a new process or for the onboarding's end)."""

    process: UnicoProcess
    release: SelfieRelease | None = None


@contract("open_process", system=UNICO)
async def open_process(request: CreateProcessInput) -> OpenedProcess:
    """Check the selfie as Unico would, then (a token from the worker's cache on the way)
    `POST /processes/v1`; release the selfie when the answer settles the process."""
    raise not_called("open_process")


@contract("read_process", system=UNICO)
async def read_process(request: ReadProcessInput) -> ReadProcess:
    """`GET /processes/v1/{id}`; release the selfie when the answer settles the process."""
    raise not_called("read_process")

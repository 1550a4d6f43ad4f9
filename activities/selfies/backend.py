"""What every selfie store offers (`SelfieBackend`), its errors, and the shape of a ref.

A ref is opaque: `<backend>:<uuid4 hex>`. Two backends implement it: a private local
directory (`local:`, `local_store`) and S3-compatible object storage (`s3:`, `s3_store`).
The stores live in `activities/` because activities read selfies and never import
`onboarding/`; the application shell picks one (`onboarding/runtime/selfie_store.py`).

A selfie released by the Unico call that settled its process leaves a tombstone naming that
process (`release`): a retry of that call, whose first answer was lost, finds the process
instead of a missing selfie. A tombstone holds no personal data and goes after
`TOMBSTONE_SECONDS`, long after any retry of the call can come.

A capture of Unico's SDK may come with the image the person saw (its preview): kept beside
the capture only as a reviewer's evidence, never sent to Unico, and gone with the capture
(`delete`, `release`). A review's evidence (the image, sealed) stays after the release
that settles the process, until the review ends and the onboarding deletes it.

A selfie used by an onboarding carries a claim (`Claim`): the onboarding that first used it,
and whether a create request left for it without an answer yet. Only its owner deletes it
(`activities/selfies/claims.py`); an upload nobody claims, and one whose onboarding ended
without deleting it (terminated), are swept (`activities/selfies/sweeper.py`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

# A hard limit against filling the disk. Unico's 800 KB limit is the inspection's job, so an
# oversized selfie still gets stored and then refused with its proper code (20506).
MAX_SELFIE_BYTES = 10 * 1024 * 1024

# A create's retries end with its onboarding's deadline (48 h by default) and come minutes
# after a lost answer; a week covers both, and a reset of a recent onboarding too.
TOMBSTONE_SECONDS = 7 * 24 * 3600.0

_REF = re.compile(r"([a-z0-9]+):([0-9a-f]{32})")


class SelfieNotFound(LookupError):
    """No selfie is stored under this ref."""


class SelfieReleased(SelfieNotFound):
    """The selfie is gone, released once Unico settled `process_id`: a tombstone says so."""

    def __init__(self, ref: str, process_id: str) -> None:
        super().__init__(f"the selfie under {ref} was released once Unico settled its process")
        self.process_id = process_id


class InvalidSelfieRef(SelfieNotFound, ValueError):
    """The ref is malformed; it cannot name a stored selfie, so it is also `SelfieNotFound`."""


class InvalidSelfie(ValueError):
    """The bytes cannot be stored: empty, or beyond the store's hard size limit."""


@dataclass(frozen=True)
class Claim:
    """Who uses a selfie (a workflow id) and how many create requests left for it and got
    no answer that the workflow knows of (a worker died while one was out)."""

    owner: str
    unanswered_creates: int = 0

    def to_text(self) -> str:
        return f"{self.unanswered_creates} {self.owner}"

    @classmethod
    def from_text(cls, text: str) -> Claim | None:
        count, _, owner = text.strip().partition(" ")
        if not owner or not count.isdigit():
            return None  # a record cut short: as if unclaimed (only the sweeper acts on it)
        return cls(owner=owner, unanswered_creates=int(count))


@dataclass(frozen=True)
class StoredSelfie:
    ref: str
    stored_at: float  # epoch seconds


class SelfieBackend(Protocol):
    """What every selfie store offers; callers depend on this, not on a backend."""

    @property
    def max_bytes(self) -> int: ...

    def put(self, data: bytes) -> str: ...

    def get(self, ref: str) -> bytes: ...

    def delete(self, ref: str) -> None: ...

    def release(self, ref: str, process_id: str) -> None:
        """Delete the selfie, leaving a tombstone that names the process: `get` then
        raises `SelfieReleased`. Idempotent, like `delete` (which removes both)."""
        ...

    def put_preview(self, ref: str, data: bytes) -> None:
        """Keep the image the person saw beside the capture under `ref`."""
        ...

    def get_preview(self, ref: str) -> bytes:
        """The preview kept beside `ref`; `SelfieNotFound` when there is none."""
        ...

    def put_evidence(self, ref: str, sealed: bytes) -> None:
        """Keep a reviewer's evidence (sealed: `contracts/evidence.py`) beside `ref`; a
        release leaves it, a delete takes it."""
        ...

    def get_evidence(self, ref: str) -> bytes:
        """The sealed evidence beside `ref`; `SelfieNotFound` when there is none."""
        ...

    def exists(self, ref: str) -> bool: ...

    def stored_at(self, ref: str) -> float:
        """When the selfie came (epoch seconds): a capture's age is reckoned from it."""
        ...

    def read_claim(self, ref: str) -> Claim | None: ...

    def write_claim(self, ref: str, claim: Claim) -> None: ...

    def selfies(self) -> Iterator[StoredSelfie]:
        """Every selfie stored (tombstones and claims aside), for the sweeper."""
        ...


def check_selfie(data: bytes, max_bytes: int) -> None:
    """Refuse what no backend stores: nothing, or more than the hard limit."""
    if not data:
        raise InvalidSelfie("the selfie is empty")
    if len(data) > max_bytes:
        raise InvalidSelfie(f"the selfie is {len(data)} bytes; the store takes at most {max_bytes}")


def new_selfie_id() -> str:
    return uuid.uuid4().hex


def selfie_id(ref: str, backend: str) -> str:
    """The id inside a ref of `backend`: 32 hex digits, so no path or key tricks get through."""
    match = _REF.fullmatch(ref)
    if match is None or match.group(1) != backend:
        raise InvalidSelfieRef(f"not a {backend} selfie ref: {ref[:80]!r}")
    return match.group(2)

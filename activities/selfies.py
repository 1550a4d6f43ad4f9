"""The selfie store: a claim check, so that an image never enters a Temporal payload.

A caller stores the bytes and passes the returned `selfie_ref` to the workflow; the activity
that calls Unico fetches the bytes by ref, and the onboarding deletes them when it ends. A
ref is opaque: `<backend>:<uuid4 hex>`. Two backends offer the same methods
(`SelfieBackend`): this local directory (`local:`), and S3-compatible object storage
(`s3:`, in `activities.s3_selfies`).

The code lives in `activities/` because activities read selfies and never import
`onboarding/`; `onboarding.selfies` re-exports it for the application shell.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Protocol

# A hard limit against filling the disk. Unico's 800 KB limit is the inspection's job, so an
# oversized selfie still gets stored and then refused with its proper code (20506).
MAX_SELFIE_BYTES = 10 * 1024 * 1024

_REF = re.compile(r"([a-z0-9]+):([0-9a-f]{32})")


class SelfieNotFound(LookupError):
    """No selfie is stored under this ref."""


class InvalidSelfieRef(SelfieNotFound, ValueError):
    """The ref is malformed; it cannot name a stored selfie, so it is also `SelfieNotFound`."""


class InvalidSelfie(ValueError):
    """The bytes cannot be stored: empty, or beyond the store's hard size limit."""


class SelfieBackend(Protocol):
    """What every selfie store offers; callers depend on this, not on a backend."""

    @property
    def max_bytes(self) -> int: ...

    def put(self, data: bytes) -> str: ...

    def get(self, ref: str) -> bytes: ...

    def delete(self, ref: str) -> None: ...

    def exists(self, ref: str) -> bool: ...


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


BACKEND = "local"


class SelfieStore:
    """Selfies as files in one private directory (0700), one file (0600) per selfie."""

    def __init__(self, root: Path | str, *, max_bytes: int = MAX_SELFIE_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode is masked by the umask and ignored for an existing directory.
        os.chmod(self.root, 0o700)

    def put(self, data: bytes) -> str:
        """Store the bytes; return the ref that fetches them."""
        check_selfie(data, self.max_bytes)
        key = new_selfie_id()
        # mkstemp creates the file 0600; the temp name never matches a ref, so a reader never
        # sees a half-written selfie, and the rename makes it appear whole.
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, self.root / key)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return f"{BACKEND}:{key}"

    def get(self, ref: str) -> bytes:
        """The stored bytes; `SelfieNotFound` when there are none under this ref."""
        path = self._path(ref)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise SelfieNotFound(f"no selfie is stored under {ref}") from None

    def delete(self, ref: str) -> None:
        """Remove the selfie. Deleting a missing one is a no-op, so a retried clean-up passes."""
        self._path(ref).unlink(missing_ok=True)

    def exists(self, ref: str) -> bool:
        try:
            return self._path(ref).is_file()
        except InvalidSelfieRef:
            return False

    def _path(self, ref: str) -> Path:
        # Only 32 hex digits ever reach the filesystem: no separator, no `..`, no temp file.
        return self.root / selfie_id(ref, BACKEND)

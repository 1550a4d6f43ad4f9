"""The selfie store: a claim check, so that an image never enters a Temporal payload.

A caller stores the bytes and passes the returned `selfie_ref` to the workflow; the activity
that calls Unico fetches the bytes by ref. A ref is opaque: `<backend>:<id>`. Only the local
directory backend exists today (`local:<uuid4 hex>`); an S3-compatible one can sit behind the
same four methods (`SelfieBackend`) with its own prefix.

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

_LOCAL_PREFIX = "local:"
_LOCAL_REF = re.compile(r"local:([0-9a-f]{32})")


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
        if not data:
            raise InvalidSelfie("the selfie is empty")
        if len(data) > self.max_bytes:
            raise InvalidSelfie(
                f"the selfie is {len(data)} bytes; the store takes at most {self.max_bytes}"
            )
        key = uuid.uuid4().hex
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
        return _LOCAL_PREFIX + key

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
        match = _LOCAL_REF.fullmatch(ref)
        if match is None:
            raise InvalidSelfieRef(f"not a selfie ref: {ref[:80]!r}")
        return self.root / match.group(1)

"""Selfies as files in one private directory: refs `local:<uuid hex>`."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from activities.selfies.backend import (
    MAX_SELFIE_BYTES,
    InvalidSelfieRef,
    SelfieNotFound,
    check_selfie,
    new_selfie_id,
    selfie_id,
)

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

"""Selfies as files in one private directory: refs `local:<uuid hex>`.

A released selfie's tombstone is a file of the same name under `released/`, holding the
process id; the store removes tombstones older than `TOMBSTONE_SECONDS` as it writes new
ones, at most once an hour. A selfie's claim is a file of the same name under `claims/`;
it stays with a tombstone (a stranger's ref must not find the process) and goes with it.
A capture's preview is a file of the same name under `previews/`, gone with the capture; a
review's sealed evidence one under `evidence/`, gone with a delete (not a release).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from activities.selfies.backend import (
    MAX_SELFIE_BYTES,
    TOMBSTONE_SECONDS,
    Claim,
    InvalidSelfieRef,
    SelfieNotFound,
    SelfieReleased,
    StoredSelfie,
    check_selfie,
    new_selfie_id,
    selfie_id,
)

BACKEND = "local"
TOMBSTONES = "released"
CLAIMS = "claims"
PREVIEWS = "previews"
EVIDENCE = "evidence"
_SELFIE_NAME = re.compile(r"[0-9a-f]{32}")
SWEEP_EVERY_SECONDS = 3600.0


class SelfieStore:
    """Selfies as files in one private directory (0700), one file (0600) per selfie."""

    def __init__(
        self,
        root: Path | str,
        *,
        max_bytes: int = MAX_SELFIE_BYTES,
        tombstone_seconds: float = TOMBSTONE_SECONDS,
    ) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.tombstone_seconds = tombstone_seconds
        self._tombstones = self.root / TOMBSTONES  # made by the first release
        self._claims = self.root / CLAIMS  # made by the first claim
        self._previews = self.root / PREVIEWS  # made by the first preview
        self._evidence = self.root / EVIDENCE  # made by the first review's evidence
        _private_directory(self.root)
        self._swept_at = float("-inf")

    def put(self, data: bytes) -> str:
        """Store the bytes; return the ref that fetches them."""
        check_selfie(data, self.max_bytes)
        key = new_selfie_id()
        self._write(self.root / key, data)
        return f"{BACKEND}:{key}"

    def get(self, ref: str) -> bytes:
        """The stored bytes; `SelfieReleased` or `SelfieNotFound` when there are none."""
        key = selfie_id(ref, BACKEND)
        # The tombstone first: a release stopped between its two steps left both, and the
        # selfie is as good as gone.
        with contextlib.suppress(FileNotFoundError):
            process_id = (self._tombstones / key).read_text("utf-8").strip()
            if process_id:
                raise SelfieReleased(ref, process_id)
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError:
            raise SelfieNotFound(f"no selfie is stored under {ref}") from None

    def delete(self, ref: str) -> None:
        """Remove the selfie (and a tombstone). A missing one is a no-op, so a retried
        clean-up passes."""
        key = selfie_id(ref, BACKEND)
        (self.root / key).unlink(missing_ok=True)
        (self._tombstones / key).unlink(missing_ok=True)
        (self._claims / key).unlink(missing_ok=True)
        (self._previews / key).unlink(missing_ok=True)
        (self._evidence / key).unlink(missing_ok=True)

    def release(self, ref: str, process_id: str) -> None:
        """The tombstone (written whole and synced), then the selfie goes."""
        if not process_id.strip():
            raise ValueError("a tombstone names the process that settled the selfie")
        key = selfie_id(ref, BACKEND)
        if not self._tombstones.is_dir():
            _private_directory(self._tombstones)
        self._write(self._tombstones / key, process_id.encode("utf-8"))
        (self.root / key).unlink(missing_ok=True)
        (self._previews / key).unlink(missing_ok=True)
        self._sweep_if_due()

    def put_preview(self, ref: str, data: bytes) -> None:
        check_selfie(data, self.max_bytes)
        key = selfie_id(ref, BACKEND)
        if not self._previews.is_dir():
            _private_directory(self._previews)
        self._write(self._previews / key, data)

    def put_evidence(self, ref: str, sealed: bytes) -> None:
        key = selfie_id(ref, BACKEND)
        if not self._evidence.is_dir():
            _private_directory(self._evidence)
        self._write(self._evidence / key, sealed)

    def get_evidence(self, ref: str) -> bytes:
        try:
            return (self._evidence / selfie_id(ref, BACKEND)).read_bytes()
        except FileNotFoundError:
            raise SelfieNotFound(f"no evidence is kept beside {ref}") from None

    def get_preview(self, ref: str) -> bytes:
        try:
            return (self._previews / selfie_id(ref, BACKEND)).read_bytes()
        except FileNotFoundError:
            raise SelfieNotFound(f"no preview is kept beside {ref}") from None

    def exists(self, ref: str) -> bool:
        try:
            return (self.root / selfie_id(ref, BACKEND)).is_file()
        except InvalidSelfieRef:
            return False

    def stored_at(self, ref: str) -> float:
        try:
            return (self.root / selfie_id(ref, BACKEND)).stat().st_mtime
        except FileNotFoundError:
            raise SelfieNotFound(f"no selfie is stored under {ref}") from None

    def read_claim(self, ref: str) -> Claim | None:
        key = selfie_id(ref, BACKEND)
        try:
            return Claim.from_text((self._claims / key).read_text("utf-8"))
        except FileNotFoundError:
            return None

    def write_claim(self, ref: str, claim: Claim) -> None:
        key = selfie_id(ref, BACKEND)
        if not self._claims.is_dir():
            _private_directory(self._claims)
        # Only a count of creates out must outlive a crash of the machine: a zero count lost
        # in one leaves the count before it (a create reported, never one hidden), and one
        # cut short reads as no claim, zero too. So a zero waits for no disk flush.
        synced = claim.unanswered_creates > 0
        self._write(self._claims / key, claim.to_text().encode("utf-8"), synced=synced)

    def selfies(self) -> Iterator[StoredSelfie]:
        # A review's evidence outlives its selfie: listed too, so that the sweep finds it.
        places = [self.root, self._evidence] if self._evidence.is_dir() else [self.root]
        seen = set()
        for place in places:
            for entry in os.scandir(place):
                if _SELFIE_NAME.fullmatch(entry.name) and entry.name not in seen:
                    seen.add(entry.name)
                    with contextlib.suppress(FileNotFoundError):  # deleted as we looked
                        stored_at = entry.stat().st_mtime
                        yield StoredSelfie(ref=f"{BACKEND}:{entry.name}", stored_at=stored_at)

    def sweep_tombstones(self, now: float | None = None) -> int:
        """Remove the tombstones older than `tombstone_seconds`, with their claims; answer
        how many went."""
        cutoff = (time.time() if now is None else now) - self.tombstone_seconds
        removed = 0
        if not self._tombstones.is_dir():
            return removed
        for entry in os.scandir(self._tombstones):
            with contextlib.suppress(FileNotFoundError):  # another worker's sweep took it
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)
                    (self._claims / entry.name).unlink(missing_ok=True)
                    removed += 1
        return removed

    def _sweep_if_due(self) -> None:
        now = time.monotonic()
        if now - self._swept_at >= SWEEP_EVERY_SECONDS:
            self._swept_at = now
            self.sweep_tombstones()

    def _write(self, path: Path, data: bytes, *, synced: bool = True) -> None:
        # mkstemp creates the file 0600; the temp name never matches a ref, so a reader never
        # sees a half-written file, and the rename makes it appear whole.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
                if synced:
                    file.flush()
                    os.fsync(file.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def _private_directory(directory: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode is masked by the umask and ignored for an existing directory.
    os.chmod(directory, 0o700)

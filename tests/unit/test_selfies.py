"""SelfieStore: the claim check's round trip, its refusals, and what it leaves on disk."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from activities.selfies import local_store
from activities.selfies.backend import (
    Claim,
    InvalidSelfie,
    InvalidSelfieRef,
    SelfieNotFound,
    SelfieReleased,
)
from activities.selfies.local_store import CLAIMS, TOMBSTONES, SelfieStore

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


@pytest.fixture
def store(tmp_path: Path) -> SelfieStore:
    return SelfieStore(tmp_path / "selfies")


# The round trip every backend offers is in test_s3_selfies.py, over both backends.


def test_each_put_gets_its_own_ref(store: SelfieStore) -> None:
    assert store.put(b"same") != store.put(b"same")


def test_missing_ref(store: SelfieStore) -> None:
    ref = "local:" + "0" * 32
    assert not store.exists(ref)
    with pytest.raises(SelfieNotFound, match="no selfie"):
        store.get(ref)
    store.delete(ref)  # a retried clean-up must pass


BAD_REFS = [
    "local:../../etc/passwd",
    "local:../secret",
    "../secret",
    "/etc/passwd",
    "local:" + "A" * 32,
    "local:" + "0" * 31,
    "local:" + "0" * 33,
    "local:" + "0" * 32 + "\n",
    "local:" + "0" * 32 + "/../secret",
    "s3:" + "0" * 32,
    "local:",
    "",
]


@pytest.mark.parametrize("ref", BAD_REFS)
def test_malformed_refs_never_reach_the_filesystem(tmp_path: Path, ref: str) -> None:
    (tmp_path / "secret").write_bytes(b"not yours")
    store = SelfieStore(tmp_path / "selfies")
    assert not store.exists(ref)
    with pytest.raises(InvalidSelfieRef):
        store.get(ref)
    with pytest.raises(InvalidSelfieRef):
        store.delete(ref)
    assert (tmp_path / "secret").read_bytes() == b"not yours"


def test_a_malformed_ref_is_also_not_found(store: SelfieStore) -> None:
    # One `except SelfieNotFound` covers both for a caller that only needs the bytes.
    with pytest.raises(SelfieNotFound):
        store.get("local:../../etc/passwd")


def test_temp_files_are_not_refs(store: SelfieStore) -> None:
    store.put(b"x")
    with pytest.raises(InvalidSelfieRef):
        store.get("local:.tmp-whatever")


def test_refuses_empty_and_too_large(tmp_path: Path) -> None:
    store = SelfieStore(tmp_path, max_bytes=10)
    with pytest.raises(InvalidSelfie, match="empty"):
        store.put(b"")
    with pytest.raises(InvalidSelfie, match="at most 10"):
        store.put(b"x" * 11)
    assert store.get(store.put(b"x" * 10)) == b"x" * 10


@posix_only
def test_private_modes(tmp_path: Path) -> None:
    root = tmp_path / "selfies"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    store = SelfieStore(root)
    ref = store.put(b"selfie")
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    (file,) = files(root)
    assert ref.endswith(file.name)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    store.release(ref, "process-1")
    assert stat.S_IMODE((root / TOMBSTONES).stat().st_mode) == 0o700
    (tombstone,) = files(root / TOMBSTONES)
    assert stat.S_IMODE(tombstone.stat().st_mode) == 0o600


def test_a_failed_write_leaves_nothing(store: SelfieStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        store.put(b"selfie")
    assert files(store.root) == []


def files(directory: Path) -> list[Path]:
    return [path for path in directory.iterdir() if path.is_file()]


def test_a_release_stopped_between_its_steps_is_a_release(store: SelfieStore) -> None:
    ref = store.put(b"selfie")
    (store.root / TOMBSTONES).mkdir()
    (store.root / TOMBSTONES / ref.removeprefix("local:")).write_text("process-1")
    # The worker died before the selfie's unlink: a retried create must not use it.
    with pytest.raises(SelfieReleased) as released:
        store.get(ref)
    assert released.value.process_id == "process-1"
    store.release(ref, "process-1")  # the retry finishes the release
    assert files(store.root) == [] and not store.exists(ref)


def test_old_tombstones_are_swept_new_ones_kept(tmp_path: Path) -> None:
    store = SelfieStore(tmp_path, tombstone_seconds=3600)
    old, new = store.put(b"old"), store.put(b"new")
    store.release(old, "process-old")
    store.release(new, "process-new")
    tombstone = tmp_path / TOMBSTONES / old.removeprefix("local:")
    an_hour_and_more_ago = time.time() - 3601
    os.utime(tombstone, (an_hour_and_more_ago, an_hour_and_more_ago))
    assert store.sweep_tombstones() == 1
    with pytest.raises(SelfieNotFound) as gone:
        store.get(old)
    assert not isinstance(gone.value, SelfieReleased), "its tombstone went"
    with pytest.raises(SelfieReleased):
        store.get(new)


def test_releases_sweep_at_most_once_an_hour(
    store: SelfieStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweeps: list[float | None] = []

    def sweep(now: float | None = None) -> int:
        sweeps.append(now)
        return 0

    monkeypatch.setattr(store, "sweep_tombstones", sweep)
    store.release(store.put(b"a"), "p-a")
    store.release(store.put(b"b"), "p-b")
    assert len(sweeps) == 1, "the first release sweeps, the next within the hour does not"
    store._swept_at -= local_store.SWEEP_EVERY_SECONDS  # an hour later
    store.release(store.put(b"c"), "p-c")
    assert len(sweeps) == 2


def test_only_a_count_of_creates_out_waits_for_the_disk(
    store: SelfieStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The count a crash of the machine must not lose is synced before the create leaves;
    a zero count, lost or cut short, reads as the earlier count or as none (claims.py)."""
    synced: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    ref = store.put(b"selfie")
    assert len(synced) == 1, "the upload is synced"
    for count in (0, 1, 0, 2):  # take, before the create, its answer, a retry's
        store.write_claim(ref, Claim(owner="onboarding-a", unanswered_creates=count))
        assert store.read_claim(ref) == Claim(owner="onboarding-a", unanswered_creates=count)
    assert len(synced) == 3, "the claims of 1 and 2 creates out, and only those"
    store.release(ref, "process-1")
    assert len(synced) == 4, "a tombstone is synced"
    places = [Path(path).parent.name for path in synced]
    assert places == [store.root.name, CLAIMS, CLAIMS, TOMBSTONES]

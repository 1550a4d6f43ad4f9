"""The S3 selfie backend against a real S3-compatible server, and the shared store contract.

The server is moto's server mode, a separate process speaking the S3 HTTP API on loopback.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from activities.selfies import SelfieSettings, open_store
from activities.selfies.backend import (
    Claim,
    InvalidSelfie,
    InvalidSelfieRef,
    SelfieBackend,
    SelfieNotFound,
    SelfieReleased,
)
from activities.selfies.local_store import SelfieStore
from activities.selfies.s3_store import RELEASED_TAG, S3SelfieStore
from onboarding.runtime.errors import SettingsError
from onboarding.runtime.settings import read_settings
from tests.support import S3_CREDENTIALS, running_s3

BUCKET = "onboarding-selfies"


@pytest.fixture(scope="module")
def s3_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("s3") / "moto.log"
    with pytest.MonkeyPatch.context() as env:
        for name, value in S3_CREDENTIALS.items():
            env.setenv(name, value)
        with running_s3(log) as url:
            boto3.client("s3", endpoint_url=url).create_bucket(Bucket=BUCKET)
            yield url


@pytest.fixture
def s3_store(s3_url: str, monkeypatch: pytest.MonkeyPatch) -> S3SelfieStore:
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    settings = SelfieSettings(
        store="s3", s3_bucket=BUCKET, s3_endpoint_url=s3_url, s3_prefix="test/"
    )
    store = open_store(settings)
    assert isinstance(store, S3SelfieStore)
    return store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> SelfieBackend:
    if request.param == "s3":
        backend: SelfieBackend = request.getfixturevalue("s3_store")
        return backend
    return SelfieStore(tmp_path)


def test_round_trip_and_delete(store: SelfieBackend) -> None:
    ref = store.put(b"\xff\xd8\xff selfie")
    assert re.fullmatch(r"(local|s3):[0-9a-f]{32}", ref)
    assert store.exists(ref)
    assert store.get(ref) == b"\xff\xd8\xff selfie"
    store.delete(ref)
    assert not store.exists(ref)
    with pytest.raises(SelfieNotFound):
        store.get(ref)
    store.delete(ref)  # deleting twice passes: a retried clean-up


def test_a_released_selfie_leaves_a_tombstone_naming_its_process(store: SelfieBackend) -> None:
    ref = store.put(b"\xff\xd8\xff selfie")
    store.release(ref, "process-7")
    assert not store.exists(ref), "the bytes are gone"
    with pytest.raises(SelfieReleased) as released:
        store.get(ref)
    assert released.value.process_id == "process-7"
    assert isinstance(released.value, SelfieNotFound), "to every other reader: no selfie"
    store.release(ref, "process-7")  # a retried release passes
    store.delete(ref)  # the end of the tombstone too
    with pytest.raises(SelfieNotFound) as missing:
        store.get(ref)
    assert not isinstance(missing.value, SelfieReleased)


def test_a_tombstone_names_a_process(store: SelfieBackend) -> None:
    ref = store.put(b"selfie")
    with pytest.raises(ValueError, match="names the process"):
        store.release(ref, " ")
    assert store.get(ref) == b"selfie", "nothing released"


def test_a_tombstone_is_tagged_for_the_buckets_expiry_rule(
    s3_store: S3SelfieStore, s3_url: str
) -> None:
    ref = s3_store.put(b"selfie")
    s3_store.release(ref, "process-8")
    s3 = boto3.client("s3", endpoint_url=s3_url)
    key = f"test/{ref.removeprefix('s3:')}"
    tags = s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]
    assert [f"{t['Key']}={t['Value']}" for t in tags] == [RELEASED_TAG]
    assert s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] == 0, "no bytes of the selfie"


def test_a_claim_is_kept_beside_the_selfie_and_goes_with_it(store: SelfieBackend) -> None:
    ref = store.put(b"\xff\xd8\xff selfie")
    assert store.read_claim(ref) is None
    store.write_claim(ref, Claim(owner="onboarding-a", unanswered_creates=1))
    assert store.read_claim(ref) == Claim(owner="onboarding-a", unanswered_creates=1)
    store.release(ref, "process-7")
    assert store.read_claim(ref) is not None, "it stays with the tombstone"
    store.delete(ref)
    assert store.read_claim(ref) is None


def test_a_preview_is_kept_beside_its_capture_and_goes_with_it(store: SelfieBackend) -> None:
    deleted, released = store.put(b"sealed.capture.one"), store.put(b"sealed.capture.two")
    for ref in (deleted, released):
        with pytest.raises(SelfieNotFound):
            store.get_preview(ref)
        store.put_preview(ref, b"\xff\xd8\xff preview")
        assert store.get_preview(ref) == b"\xff\xd8\xff preview"
        assert store.get(ref).startswith(b"sealed."), "the capture is untouched"
    store.delete(deleted)
    store.release(released, "process-9")
    for ref in (deleted, released):
        with pytest.raises(SelfieNotFound):
            store.get_preview(ref)
    with pytest.raises(InvalidSelfie, match="empty"):
        store.put_preview(store.put(b"capture.x.y"), b"")


def test_a_review_s_evidence_outlives_the_release_and_goes_with_the_delete(
    store: SelfieBackend,
) -> None:
    ref = store.put(b"\xff\xd8\xff selfie")
    with pytest.raises(SelfieNotFound):
        store.get_evidence(ref)
    store.put_evidence(ref, b"e1.sealed")
    store.release(ref, "process-10")
    assert store.get_evidence(ref) == b"e1.sealed", "the release keeps it"
    assert ref in {selfie.ref for selfie in store.selfies()}, "listed, so the sweep finds it"
    store.delete(ref)
    with pytest.raises(SelfieNotFound):
        store.get_evidence(ref)


def test_the_sweeper_lists_selfies_but_no_tombstone_or_claim(store: SelfieBackend) -> None:
    kept, released = store.put(b"\xff\xd8\xff kept"), store.put(b"\xff\xd8\xff gone")
    store.put_preview(kept, b"\xff\xd8\xff preview")
    store.write_claim(kept, Claim(owner="onboarding-a"))
    store.release(released, "process-7")
    listed = {selfie.ref: selfie.stored_at for selfie in store.selfies()}  # others' too (S3)
    assert kept in listed and released not in listed
    assert abs(listed[kept] - time.time()) < 60
    assert all(ref.partition(":")[2] not in ("claims", "released", "previews") for ref in listed)


def test_refusals(store: SelfieBackend) -> None:
    with pytest.raises(InvalidSelfie, match="empty"):
        store.put(b"")
    with pytest.raises(InvalidSelfie, match="at most"):
        store.put(b"x" * (store.max_bytes + 1))


@pytest.mark.parametrize("ref", ["s3:../../x", "s3:" + "A" * 32, "local:" + "0" * 32, ""])
def test_malformed_or_foreign_refs(s3_store: S3SelfieStore, ref: str) -> None:
    assert not s3_store.exists(ref)
    with pytest.raises(InvalidSelfieRef):
        s3_store.get(ref)
    with pytest.raises(InvalidSelfieRef):
        s3_store.delete(ref)


def test_objects_live_under_the_prefix(s3_store: S3SelfieStore, s3_url: str) -> None:
    ref = s3_store.put(b"selfie")
    listing = boto3.client("s3", endpoint_url=s3_url).list_objects_v2(Bucket=BUCKET, Prefix="test/")
    assert f"test/{ref.removeprefix('s3:')}" in [o["Key"] for o in listing.get("Contents", [])]
    s3_store.delete(ref)


def test_s3_needs_a_bucket() -> None:
    with pytest.raises(SettingsError, match="SELFIE_S3_BUCKET"):
        read_settings(SelfieSettings, {"SELFIE_STORE": "s3"})

"""A review's evidence sealed at rest (`contracts/evidence.py`), and the audit of its views
(`onboarding/console/audit.py`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from activities.selfies import SelfieCleanup, SelfieNotFound, SelfieStore
from contracts.evidence import EvidenceBroken, EvidenceSeal
from contracts.unico import UnicoProcess
from onboarding.console.audit import EvidenceAudit
from onboarding_client.keyring import Keyring
from tests.reviewers import ANA, BRUNO
from tests.support import TEST_KEYS, fixed_key

REF = "local:" + "a" * 32
IMAGE = b"\xff\xd8\xff a person's face"


def test_evidence_opens_for_its_selfie_only_and_with_any_key_of_the_ring() -> None:
    keys = Keyring.parse(TEST_KEYS)
    sealed = EvidenceSeal(keys.keys, keys.current_id).seal(IMAGE, REF)
    assert IMAGE not in sealed and sealed.startswith(b"e1.test-1.")
    rotated = Keyring.parse(f"test-2:{fixed_key('next')},{TEST_KEYS}")
    assert EvidenceSeal(rotated.keys, rotated.current_id).open(sealed, REF) == IMAGE
    with pytest.raises(EvidenceBroken):
        EvidenceSeal(keys.keys, keys.current_id).open(sealed, "local:" + "b" * 32)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(EvidenceBroken):
        EvidenceSeal(keys.keys, keys.current_id).open(tampered, REF)
    stranger = Keyring.parse(f"other:{fixed_key('other')}")
    with pytest.raises(EvidenceBroken):
        EvidenceSeal(stranger.keys, stranger.current_id).open(sealed, REF)


def test_each_view_is_recorded_without_customer_data_newest_first(tmp_path: Path) -> None:
    audit = EvidenceAudit(tmp_path / "audit" / "views.jsonl")
    assert audit.views() == []
    audit.record(ANA, "order-1")
    audit.record(BRUNO, "order-2")
    (tmp_path / "audit" / "views.jsonl").open("a").write('{"cut short')  # a crash mid-line
    views = audit.views()
    assert [(v.reviewer, v.request_id) for v in views] == [
        ("bruno@reviewers.example", "order-2"),
        ("ana@reviewers.example", "order-1"),
    ]
    first = json.loads((tmp_path / "audit" / "views.jsonl").read_text().splitlines()[0])
    assert sorted(first) == ["at", "request_id", "reviewer", "reviewer_id"]
    assert oct((tmp_path / "audit" / "views.jsonl").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(
    ("asked", "review_by_default", "kept"),
    [
        (True, False, True),
        (False, True, False),
        (None, True, True),
        (None, False, False),
    ],
    ids=["review on", "review off", "the deployment reviews", "the deployment does not"],
)
async def test_the_image_is_kept_sealed_where_a_reviewer_will_look(
    tmp_path: Path, asked: bool | None, review_by_default: bool, kept: bool
) -> None:
    store = SelfieStore(tmp_path)
    keys = Keyring.parse(TEST_KEYS)
    seal = EvidenceSeal(keys.keys, keys.current_id)
    cleanup = SelfieCleanup(store, 0, seal, review_by_default=review_by_default)
    ref = store.put(IMAGE)
    settled = UnicoProcess.model_validate({"id": "p-1", "status": 3, "unicoId": {"result": "yes"}})
    released = await cleanup.release_settled(ref, settled, asked)
    assert released is not None and (released.deleted, released.evidence) == (True, kept)
    assert not store.exists(ref), "the selfie itself goes either way"
    if kept:
        assert seal.open(store.get_evidence(ref), ref) == IMAGE
    else:
        with pytest.raises(SelfieNotFound):
            store.get_evidence(ref)

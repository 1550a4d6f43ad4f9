"""The codec's published test vectors (docs/codec-vectors.json) are what our codec does,
both ways, so a client in another language that matches them can seal natively."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from onboarding_client.codec import NONCE_BYTES, EncryptionCodec
from onboarding_client.keyring import Keyring

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "codec.md"
FILE = ROOT / "docs" / "codec-vectors.json"
# The committed file, read as a client would: never regenerated here.
VECTORS: dict[str, Any] = json.loads(FILE.read_text(encoding="utf-8"))
CASES = VECTORS["vectors"]


def payload(shown: dict[str, Any]) -> Payload:
    return Payload(
        metadata={key: value.encode() for key, value in shown["metadata"].items()},
        data=base64.b64decode(shown["data_base64"]),
    )


def ids(case: dict[str, Any]) -> str:
    return str(case["name"])


def test_the_doc_names_the_vectors_file_and_its_cases() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "docs/codec-vectors.json" in text
    for case in CASES:
        assert f"`{case['name']}`" in text, f"docs/codec.md does not describe {case['name']}"


def test_there_are_sealed_and_passed_through_vectors_under_two_keys() -> None:
    assert {case["key_id"] for case in CASES if case["nonce_base64"]} == set(
        Keyring.parse(VECTORS["keyring"]).key_ids
    )
    assert any(case["nonce_base64"] is None for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_the_json_converter_makes_the_input(case: dict[str, Any]) -> None:
    [made] = pydantic_data_converter.payload_converter.to_payloads([case["value"]])
    assert made == payload(case["input"])


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_our_codec_seals_the_input_to_exactly_the_vector(case: dict[str, Any]) -> None:
    key = base64.b64decode(case["key_base64"])
    assert f"{case['key_id']}:{case['key_base64']}" in VECTORS["keyring"]
    codec = EncryptionCodec(Keyring(case["key_id"], {case["key_id"]: key}))
    given = payload(case["input"])
    if case["nonce_base64"] is None:
        assert codec.encrypt(given) == given == payload(case["sealed"])
        return
    nonce = base64.b64decode(case["nonce_base64"])
    assert len(nonce) == NONCE_BYTES
    assert given.SerializeToString() == base64.b64decode(case["serialized_base64"])
    sealed = codec.seal(given, nonce)
    assert sealed == payload(case["sealed"])
    assert sealed.data[:NONCE_BYTES] == nonce


@pytest.mark.parametrize("case", CASES, ids=ids)
async def test_a_keyring_of_both_keys_opens_the_vector(case: dict[str, Any]) -> None:
    # The first key is the current one: the second key's payload opens by its key id.
    codec = EncryptionCodec(Keyring.parse(VECTORS["keyring"]))
    assert await codec.decode([payload(case["sealed"])]) == [payload(case["input"])]


def test_seal_refuses_a_nonce_of_another_size() -> None:
    case = CASES[0]
    codec = EncryptionCodec(Keyring.parse(VECTORS["keyring"]))
    with pytest.raises(ValueError, match="12 bytes"):
        codec.seal(payload(case["input"]), b"\0" * 8)

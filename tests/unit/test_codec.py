"""The payload codec and its keyring: what the database holds, and what opens it."""

from __future__ import annotations

import base64

import pytest
from temporalio.api.common.v1 import Payload

from onboarding.temporal.converter import data_converter
from onboarding_client.codec import (
    ENCODING,
    KEY_ID_METADATA,
    DecryptionError,
    EncryptionCodec,
    UnknownKeyError,
)
from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.keyring import Keyring, KeyringError, new_key
from tests.support import fixed_key

OLD = f"old:{fixed_key('old')}"
NEW = f"new:{fixed_key('new')}"
SECRET_JSON = b'{"subject": {"code": "12345678909", "name": "Maria Silva"}}'


def plain(data: bytes = SECRET_JSON) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


async def test_round_trip_keeps_data_and_metadata() -> None:
    codec = EncryptionCodec(Keyring.parse(NEW))
    (sealed,) = await codec.encode([plain()])
    assert sealed.metadata["encoding"] == ENCODING
    assert sealed.metadata[KEY_ID_METADATA] == b"new"
    assert b"12345678909" not in sealed.SerializeToString()
    assert b"Maria" not in sealed.SerializeToString()
    assert await codec.decode([sealed]) == [plain()]


async def test_every_payload_gets_its_own_nonce() -> None:
    codec = EncryptionCodec(Keyring.parse(NEW))
    first, second = await codec.encode([plain(), plain()])
    assert first.data[:12] != second.data[:12]
    assert first.data != second.data


async def test_rotation_new_payloads_use_the_current_key_old_ones_still_open() -> None:
    before = EncryptionCodec(Keyring.parse(OLD))
    (old_payload,) = await before.encode([plain()])
    after = EncryptionCodec(Keyring.parse(f"{NEW},{OLD}"))
    (new_payload,) = await after.encode([plain()])
    assert new_payload.metadata[KEY_ID_METADATA] == b"new"
    assert await after.decode([old_payload, new_payload]) == [plain(), plain()]


async def test_current_key_can_be_named() -> None:
    codec = EncryptionCodec(Keyring.parse(f"{OLD}\n{NEW}", current_id="new"))
    (sealed,) = await codec.encode([plain()])
    assert sealed.metadata[KEY_ID_METADATA] == b"new"


async def test_an_unknown_key_id_is_a_clear_error() -> None:
    (sealed,) = await EncryptionCodec(Keyring.parse(OLD)).encode([plain()])
    with pytest.raises(UnknownKeyError, match=r"key id 'old'.*\(new\).*ONBOARDING_ENCRYPTION_KEYS"):
        await EncryptionCodec(Keyring.parse(NEW)).decode([sealed])


async def test_tampering_and_relabelling_are_detected() -> None:
    codec = EncryptionCodec(Keyring.parse(f"{NEW},{OLD}"))
    (sealed,) = await codec.encode([plain()])
    last = bytes([sealed.data[-1] ^ 1])
    flipped = Payload(metadata=sealed.metadata, data=sealed.data[:-1] + last)
    with pytest.raises(DecryptionError, match="'new'"):
        await codec.decode([flipped])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID_METADATA: b"old"}, data=sealed.data)
    with pytest.raises(DecryptionError, match="'old'"):
        await codec.decode([relabelled])


async def test_same_id_other_bytes_does_not_open() -> None:
    (sealed,) = await EncryptionCodec(Keyring.parse(NEW)).encode([plain()])
    impostor = EncryptionCodec(Keyring.parse(f"new:{new_key()}"))
    with pytest.raises(DecryptionError):
        await impostor.decode([sealed])


async def test_payloads_written_before_encryption_pass_through() -> None:
    codec = EncryptionCodec(Keyring.parse(NEW))
    assert await codec.decode([plain()]) == [plain()]


async def test_none_stays_a_plain_null_for_the_server() -> None:
    # upsert_memo({key: None}) removes the key only if the server sees binary/null.
    null = Payload(metadata={"encoding": b"binary/null"})
    codec = EncryptionCodec(Keyring.parse(NEW))
    assert await codec.encode([null]) == [null]
    assert await codec.decode([null]) == [null]


async def test_the_data_converter_round_trips_pydantic_models() -> None:
    converter = data_converter(Keyring.parse(NEW))
    request = OnboardingRequest.model_validate(
        {"request_id": "r", "subject": {"code": "12345678909", "name": "Maria"}, "selfie_ref": "s"}
    )
    (payload,) = await converter.encode([request])
    assert payload.metadata["encoding"] == ENCODING
    assert await converter.decode([payload], [OnboardingRequest]) == [request]


def test_the_keyring_never_shows_its_keys() -> None:
    keyring = Keyring.parse(NEW)
    key = fixed_key("new")
    assert key not in repr(keyring) and key not in str(keyring)
    assert base64.b64decode(key).hex() not in repr(keyring)


def test_url_safe_base64_and_comments_are_accepted() -> None:
    raw = bytes(range(251, 256)) + bytes(27)  # bytes whose base64 has + and /
    standard = base64.b64encode(raw).decode()
    url_safe = base64.urlsafe_b64encode(raw).decode()
    assert standard != url_safe
    keyring = Keyring.parse(f"# keys\na:{standard}  # current\nb:{url_safe}\n")
    assert keyring.current_id == "a"
    assert keyring.keys == {"a": raw, "b": raw}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no encryption key"),
        ("# only a comment", "no encryption key"),
        ("justbase64", "id:base64key"),
        (":" + fixed_key("x"), "id:base64key"),
        ("a:", "id:base64key"),
        ("a:not base64!", "not valid base64"),
        (f"a:{base64.b64encode(bytes(16)).decode()}", "has 16 bytes"),
        (f"a:{fixed_key('1')},a:{fixed_key('2')}", "listed twice"),
        (f"bad id:{fixed_key('1')}", "key id"),
    ],
)
def test_malformed_keyrings_are_refused_without_echoing_keys(text: str, words: str) -> None:
    with pytest.raises(KeyringError, match=words) as refused:
        Keyring.parse(text)
    assert fixed_key("1") not in str(refused.value)


def test_an_unlisted_current_key_is_refused() -> None:
    with pytest.raises(KeyringError, match="'other'"):
        Keyring.parse(NEW, current_id="other")

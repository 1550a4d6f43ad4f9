"""The MFA step's parts that need no server: the transaction's seal, the phone as Guardian
wants it, and the settings' all-or-nothing rule."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from activities import SystemSettingsError
from activities.guardian import GuardianSettings
from activities.guardian.enrollments import e164
from activities.guardian.sealing import SealBroken, TransactionSeal

SECRET = {"transaction_token": "tx-token-value", "recovery_code": "ABCDEFGHIJKLMNOPQRSTUVWX"}
KEY_A, KEY_B = os.urandom(32), os.urandom(32)


def test_a_sealed_transaction_opens_only_for_its_onboarding() -> None:
    seal = TransactionSeal({"a": KEY_A}, "a")
    sealed = seal.seal(SECRET, "onboarding-1")
    assert "tx-token-value" not in sealed and "ABCDEFGH" not in sealed
    assert seal.open(sealed, "onboarding-1") == SECRET
    with pytest.raises(SealBroken):
        seal.open(sealed, "onboarding-2")  # moved to another onboarding


def test_a_seal_is_not_the_payload_key_s_encryption() -> None:
    # The codec server opens payloads with the payload key itself; the seal's key is derived.
    sealed = TransactionSeal({"a": KEY_A}, "a").seal(SECRET, "onboarding-1")
    raw = base64.urlsafe_b64decode(sealed.split(".", 2)[2])
    with pytest.raises(InvalidTag):
        AESGCM(KEY_A).decrypt(raw[:12], raw[12:], b"onboarding-1")


def test_seals_survive_a_rotation_of_the_payload_keys() -> None:
    before = TransactionSeal({"a": KEY_A}, "a").seal(SECRET, "onboarding-1")
    after = TransactionSeal({"b": KEY_B, "a": KEY_A}, "b")
    assert after.open(before, "onboarding-1") == SECRET
    assert after.seal(SECRET, "onboarding-1").startswith("s1.b.")
    with pytest.raises(SealBroken, match="no key"):
        TransactionSeal({"b": KEY_B}, "b").open(before, "onboarding-1")


@pytest.mark.parametrize(
    "tampered", ["s1.a.AAAA", "s2.a.xyz", "garbage", ""], ids=["short", "version", "junk", "empty"]
)
def test_a_broken_seal_is_refused_in_words(tampered: str) -> None:
    with pytest.raises(SealBroken):
        TransactionSeal({"a": KEY_A}, "a").open(tampered, "onboarding-1")


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("11912345678", "+5511912345678"),  # DDD and a mobile number
        ("1132345678", "+551132345678"),  # DDD and a landline
        ("5511912345678", "+5511912345678"),  # with the country code
    ],
)
def test_the_phone_goes_in_e164(digits: str, expected: str) -> None:
    assert e164(digits) == expected


def test_guardian_settings_are_all_or_nothing(tmp_path: Path) -> None:
    assert GuardianSettings().check() is False
    full = GuardianSettings(
        auth0_tenant_url="http://127.0.0.1:1/auth0",
        auth0_client_id="app",
        auth0_client_secret="s",
        guardian_url="http://127.0.0.1:1/guardian",
    )
    assert full.check() is True
    with pytest.raises(SystemSettingsError, match="GUARDIAN_URL"):
        full.model_copy(update={"guardian_url": None}).check()
    with pytest.raises(SystemSettingsError, match="uuid"):
        full.model_copy(update={"guardian_user_id_template": "auth0|x"}).check()

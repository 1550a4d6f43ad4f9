"""Payload encryption: AES-256-GCM over every payload that Temporal stores.

Each payload (already converted to JSON by the pydantic converter) is serialised whole,
metadata included, and sealed with the keyring's current key under a fresh random 96-bit
nonce. The result is a payload that says only how to open it:

    metadata: {"encoding": "binary/encrypted", "encryption-key-id": "<key id>"}
    data:     nonce (12 bytes) || ciphertext || GCM tag (16 bytes)

The key id is also the associated data, so a payload cannot be relabelled to another key.
Any key of the keyring decrypts, so a rotated-out key keeps old histories readable while
new payloads use the current one. Payloads that are not encrypted (histories written
before encryption was turned on) pass through decoding unchanged, and a None (`binary/null`,
no data) passes through both ways.

Random nonces are safe for about 2**32 payloads per key (NIST SP 800-38D); at a few dozen
payloads per onboarding, rotate the key long before that.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
# A None carries no data, and the server must see it as one: `upsert_memo({key: None})`
# removes the key only while its payload is the plain `binary/null`.
NULL_ENCODING = b"binary/null"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = 32  # AES-256
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class KeyringError(ValueError):
    """The keys are malformed; the message names the problem, never the key material."""


class UnknownKeyError(KeyError):
    """A payload names a key id that this keyring does not hold."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0])


class DecryptionError(ValueError):
    """A payload does not open with the key it names: wrong key bytes, or tampered data."""


@dataclass(frozen=True)
class Keyring:
    """Named AES-256 keys: `current_id` encrypts, every key decrypts."""

    current_id: str
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyringError("no encryption key is configured")
        for key_id, key in self.keys.items():
            if not _KEY_ID.fullmatch(key_id):
                raise KeyringError(f"key id {key_id[:64]!r}: use 1-64 of A-Z a-z 0-9 . _ -")
            if len(key) != KEY_BYTES:
                raise KeyringError(f"key {key_id!r} has {len(key)} bytes; AES-256 needs 32")
        if self.current_id not in self.keys:
            raise KeyringError(f"the current key id {self.current_id!r} is not among the keys")

    @classmethod
    def parse(cls, text: str, current_id: str | None = None) -> Keyring:
        """Read `id:base64key` entries, separated by commas or new lines (`#` comments).

        The current key is `current_id`, or else the first entry.
        """
        keys: dict[str, bytes] = {}
        for line in text.splitlines():
            for entry in line.split("#", 1)[0].split(","):
                if entry := entry.strip():
                    key_id, key = _parse_entry(entry)
                    if key_id in keys:
                        raise KeyringError(f"key id {key_id!r} is listed twice")
                    keys[key_id] = key
        if not keys:
            raise KeyringError("no encryption key is configured")
        return cls(current_id or next(iter(keys)), keys)

    @property
    def key_ids(self) -> list[str]:
        return list(self.keys)


def _parse_entry(entry: str) -> tuple[str, bytes]:
    key_id, colon, encoded = entry.partition(":")
    key_id = key_id.strip()
    if not colon or not key_id:
        raise KeyringError("each key is written id:base64key")
    try:
        # Either base64 alphabet: `openssl rand -base64 32` or a URL-safe generator.
        key = base64.b64decode(encoded.strip().replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"key {key_id!r} is not valid base64") from None
    return key_id, key


def new_key() -> str:
    """A fresh random key, base64-encoded, for a keyring entry."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


class EncryptionCodec(PayloadCodec):
    """Temporal's codec hook: encrypts on the way out, decrypts on the way in."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keyring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") == NULL_ENCODING:
            return payload  # None has nothing to hide, and the server reads it as "remove"
        key_id = self.keyring.current_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[key_id].encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()},
            data=nonce + sealed,
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # written before encryption was on: nothing to open
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode("utf-8", "replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(
                f"a payload is encrypted with key id {key_id!r}, which is not among the "
                f"configured keys ({', '.join(self.keyring.key_ids)}): add that key to "
                "ONBOARDING_ENCRYPTION_KEYS to read it"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, key_id.encode())
        except InvalidTag:
            raise DecryptionError(
                f"a payload with key id {key_id!r} does not decrypt: the key's bytes differ "
                "from the ones that encrypted it, or the payload was altered"
            ) from None
        return Payload.FromString(plain)

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

docs/codec.md gives the layout byte by byte, for a client in another language, with test
vectors (docs/codec-vectors.json).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from onboarding_client.keyring import Keyring

ENCODING = b"binary/encrypted"
# A None carries no data, and the server must see it as one: `upsert_memo({key: None})`
# removes the key only while its payload is the plain `binary/null`.
NULL_ENCODING = b"binary/null"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12


class UnknownKeyError(KeyError):
    """A payload names a key id that this keyring does not hold."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0])


class DecryptionError(ValueError):
    """A payload does not open with the key it names: wrong key bytes, or tampered data."""


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
        return self.seal(payload, os.urandom(NONCE_BYTES))

    def seal(self, payload: Payload, nonce: bytes) -> Payload:
        """`encrypt` under a given nonce, for the published test vectors (docs/codec.md).

        A nonce used twice under one key gives the key away (GCM), so everything else goes
        through `encrypt`, which draws a fresh one each time.
        """
        if payload.metadata.get("encoding") == NULL_ENCODING:
            return payload  # None has nothing to hide, and the server reads it as "remove"
        if len(nonce) != NONCE_BYTES:
            raise ValueError(f"a nonce is {NONCE_BYTES} bytes, not {len(nonce)}")
        key_id = self.keyring.current_id
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

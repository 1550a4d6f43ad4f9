"""The evidence a reviewer sees, sealed at rest: the image a person gave (or saw, beside a
capture), kept while a review waits.

AES-256-GCM under a key derived (HKDF-SHA256) from the payload keyring's current key,
bound to the selfie's ref: the activities seal it when Unico settles the process, the
reviewers' console opens it for a logged-in reviewer. Every key of the keyring opens it,
so a rotation keeps waiting reviews' evidence readable. The layout: `e1.<key id>.` then
the 12-byte nonce and the ciphertext with its tag.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"onboarding review evidence seal v1"
_NONCE_BYTES = 12
_VERSION = b"e1"


class EvidenceBroken(ValueError):
    """The sealed evidence does not open: another selfie's, tampered, or an unknown key."""


def _derive(key: bytes) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(key))


class EvidenceSeal:
    def __init__(self, keys: Mapping[str, bytes], current_id: str) -> None:
        self._ciphers = {key_id: _derive(key) for key_id, key in keys.items()}
        self._current_id = current_id

    def seal(self, image: bytes, selfie_ref: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self._current_id].encrypt(nonce, image, selfie_ref.encode())
        return b".".join([_VERSION, self._current_id.encode(), nonce + sealed])

    def open(self, sealed: bytes, selfie_ref: str) -> bytes:
        version, _, rest = sealed.partition(b".")
        key_id, _, body = rest.partition(b".")
        cipher = self._ciphers.get(key_id.decode("ascii", "replace"))
        if version != _VERSION or cipher is None:
            raise EvidenceBroken("no key of this keyring opens the evidence")
        try:
            return cipher.decrypt(body[:_NONCE_BYTES], body[_NONCE_BYTES:], selfie_ref.encode())
        except (InvalidTag, ValueError):
            raise EvidenceBroken("the evidence does not open for this selfie") from None

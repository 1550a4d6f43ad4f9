"""Seals the Guardian transaction so the workflow carries it without reading it.

The transaction token lets whoever holds it confirm an enrollment, so it stays within the
activities' reach: sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the
workers' current payload key, bound to the onboarding's workflow id. History holds only
the sealed text, inside a payload encrypted as every payload is; the codec server, which
the Web UI decodes through, opens the payload but not the seal. Every key of the keyring
opens seals, so a rotation of the payload keys keeps enrollments in flight working.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"onboarding mfa transaction seal v1"
_NONCE_BYTES = 12
_VERSION = "s1"


class SealBroken(ValueError):
    """The sealed text does not open: another onboarding's, tampered, or an unknown key."""


def _derive(key: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO)
    return AESGCM(hkdf.derive(key))


class TransactionSeal:
    def __init__(self, keys: Mapping[str, bytes], current_id: str) -> None:
        self._ciphers = {key_id: _derive(key) for key_id, key in keys.items()}
        self._current_id = current_id

    def seal(self, secret: Mapping[str, Any], bound_to: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        plain = json.dumps(secret, separators=(",", ":")).encode()
        sealed = self._ciphers[self._current_id].encrypt(nonce, plain, bound_to.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{_VERSION}.{self._current_id}.{body}"

    def open(self, text: str, bound_to: str) -> dict[str, Any]:
        version, _, rest = text.partition(".")
        key_id, _, body = rest.partition(".")
        cipher = self._ciphers.get(key_id)
        if version != _VERSION or cipher is None:
            raise SealBroken(f"no key {key_id!r} opens this enrollment's seal")
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            plain = cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], bound_to.encode())
        except (InvalidTag, ValueError):
            raise SealBroken("the enrollment's seal does not open for this onboarding") from None
        opened: dict[str, Any] = json.loads(plain)
        return opened

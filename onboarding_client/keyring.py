"""The payload keyring: named AES-256 keys, the current one encrypting, every one decrypting.

Read from `id:base64key` entries (ONBOARDING_ENCRYPTION_KEYS or its _FILE); the codec
encrypts Temporal's payloads with it, and the workers derive the MFA step's seal from it.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

KEY_BYTES = 32  # AES-256
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class KeyringError(ValueError):
    """The keys are malformed; the message names the problem, never the key material."""


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
        for key_id, encoded in entries(text):
            key = _decode_key(key_id, encoded)
            if key_id in keys:
                raise KeyringError(f"key id {key_id!r} is listed twice")
            keys[key_id] = key
        if not keys:
            raise KeyringError("no encryption key is configured")
        return cls(current_id or next(iter(keys)), keys)

    @property
    def key_ids(self) -> list[str]:
        return list(self.keys)


def entries(text: str) -> Iterator[tuple[str, str]]:
    """The `name:value` entries of `text`, separated by commas or new lines (`#` comments),
    stripped; without a colon the value is "", which each reader (this keyring, the codec
    server's caller tokens) refuses in its own words."""
    for line in text.splitlines():
        for entry in line.split("#", 1)[0].split(","):
            if entry := entry.strip():
                name, _, value = entry.partition(":")
                yield name.strip(), value.strip()


def _decode_key(key_id: str, encoded: str) -> bytes:
    if not key_id or not encoded:
        raise KeyringError("each key is written id:base64key")
    try:
        # Either base64 alphabet: `openssl rand -base64 32` or a URL-safe generator.
        return base64.b64decode(encoded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"key {key_id!r} is not valid base64") from None


def new_key() -> str:
    """A fresh random key, base64-encoded, for a keyring entry."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")

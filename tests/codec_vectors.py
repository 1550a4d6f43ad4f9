"""The payload codec's test vectors, docs/codec-vectors.json: what a client in another
language checks its own codec against (docs/codec.md).

    python -m tests.codec_vectors    # writes the file; commit it

Everything is fixed (keys, nonces, values), so the file is the same on every run; the test
(`tests/unit/test_codec_vectors.py`) reads the committed file and never writes it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

from onboarding_client.codec import EncryptionCodec
from onboarding_client.keyring import Keyring

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "docs" / "codec-vectors.json"


def derived(label: str, size: int) -> bytes:
    """Fixed bytes from a label: the same in every run, never a secret."""
    return hashlib.sha256(label.encode()).digest()[:size]


KEYS = {
    "vector-key-1": derived("onboarding codec vector key 1", 32),
    "vector-key-2": derived("onboarding codec vector key 2", 32),
}
# A fictitious person; 12345678909 is the test CPF (valid check digits, nobody's).
REQUEST = {
    "request_id": "vector-order-1",
    "subject": {"code": "12345678909", "name": "Maria da Conceição"},
    "selfie_ref": "local:3f9a0c5e-vector",
}
DECISION = {"outcome": "approved", "reasons": [], "unico_id": "yes", "attempts": 1}
# (name, what it shows, key id, nonce label or None for a payload that passes through, value)
CASES: list[tuple[str, str, str, str | None, Any]] = [
    (
        "request",
        "an onboarding's input, as the JSON converter writes it, sealed under the first key",
        "vector-key-1",
        "onboarding codec vector nonce 1",
        REQUEST,
    ),
    (
        "decision-second-key",
        "a decision sealed under the second key: a keyring holding both opens it by its key id",
        "vector-key-2",
        "onboarding codec vector nonce 2",
        DECISION,
    ),
    (
        "null-passes-through",
        "None (binary/null, no data): neither sealed nor opened, the same payload both ways",
        "vector-key-1",
        None,
        None,
    ),
]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def shown(payload: Payload) -> dict[str, Any]:
    """A payload in the file: metadata values as text (all of them are ASCII here)."""
    return {
        "metadata": {key: value.decode("utf-8") for key, value in payload.metadata.items()},
        "data_base64": b64(payload.data),
    }


def keyring_text() -> str:
    return ",".join(f"{key_id}:{b64(key)}" for key_id, key in KEYS.items())


def vector(
    name: str, about: str, key_id: str, nonce_label: str | None, value: Any
) -> dict[str, Any]:
    [payload] = pydantic_data_converter.payload_converter.to_payloads([value])
    codec = EncryptionCodec(Keyring(key_id, KEYS))  # the vector's key is the current one
    nonce = derived(nonce_label, 12) if nonce_label else None
    sealed = codec.encrypt(payload) if nonce is None else codec.seal(payload, nonce)
    return {
        "name": name,
        "about": about,
        "key_id": key_id,
        "key_base64": b64(KEYS[key_id]),
        "nonce_base64": None if nonce is None else b64(nonce),
        "value": value,
        "input": shown(payload),
        "serialized_base64": None if nonce is None else b64(payload.SerializeToString()),
        "sealed": shown(sealed),
    }


def vectors() -> dict[str, Any]:
    return {
        "about": (
            "Test vectors of the onboarding payload codec (AES-256-GCM), described in "
            "docs/codec.md. Written by `python -m tests.codec_vectors`; test keys, never "
            "secrets."
        ),
        "keyring": keyring_text(),
        "vectors": [vector(*case) for case in CASES],
    }


def main() -> None:
    VECTORS.write_text(json.dumps(vectors(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {VECTORS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

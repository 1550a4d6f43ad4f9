"""The sandbox's stand-in for Unico's capture SDK, and the create's side of it.

Unico runs liveness only on a capture made by its SDK: the app gets an `encrypted` string
sealed for Unico (its inner format is not public) and puts it in `imageBase64`. The sandbox
makes strings of the same kind (`POST /_sandbox/captures`): three base64url segments joined
by dots, a header, a nonce and an AES-256-GCM box, sealed with a key only this process
holds, binding the image, a `live` or `spoof` verdict, the capture time and a capture id.

The create opens one as Unico would: a capture that does not open (altered, or sealed by
another sandbox) is 20900, Unico's code for an `imageBase64` that is no valid file; older
than `VALID_SECONDS` is 10507; one a process was already created from is 10508 (one use);
the image inside gets the checks a plain image gets. `unico_capture_required` (runtime
config) answers a plain image 10506, as an API key that demands the SDK does.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VALID_SECONDS = 600.0  # seed 004: 10507 for a capture older than 10 minutes
HEADER = {"typ": "unico-capture", "alg": "A256GCM", "kid": "sandbox"}
LIVENESS = {"live": 1, "spoof": 2}  # Unico's liveness values: 1 live, 2 not live

CAPTURE_EXPIRED = 10507
CAPTURE_USED = 10508
CAPTURE_REQUIRED = 10506
NOT_A_FILE = 20900


class CaptureError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Capture:
    capture_id: str
    image_base64: str
    liveness: str  # "live" or "spoof"
    captured_at: float  # epoch seconds


def looks_like_capture(image: str) -> bool:
    """A plain image is base64 (no dots); a capture is dot-joined base64url segments."""
    return "." in image


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CaptureDesk:
    """Seals captures, opens them for the create, and remembers the ones used."""

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock
        self._key = AESGCM(os.urandom(32))  # only this process can seal or open
        self._used: set[str] = set()

    def seal(self, image_base64: str, liveness: str, age_seconds: float) -> dict[str, str]:
        """`{"capture", "captured_at"}`: what the SDK hands the app, made `age_seconds` ago."""
        if liveness not in LIVENESS:
            raise ValueError('liveness must be "live" or "spoof"')
        captured_at = self._clock() - age_seconds
        inner = {
            "capture_id": uuid.uuid4().hex,
            "image_base64": image_base64,
            "liveness": liveness,
            "captured_at": captured_at,
        }
        header = _b64url(json.dumps(HEADER, separators=(",", ":")).encode())
        nonce = os.urandom(12)
        box = self._key.encrypt(nonce, json.dumps(inner).encode(), header.encode())
        when = datetime.fromtimestamp(captured_at, UTC).isoformat().replace("+00:00", "Z")
        return {"capture": f"{header}.{_b64url(nonce)}.{_b64url(box)}", "captured_at": when}

    def open(self, capture: str) -> Capture:
        """The capture, or `CaptureError` with the code Unico answers for it."""
        try:
            header, nonce, box = capture.split(".")
            plain = self._key.decrypt(_unb64url(nonce), _unb64url(box), header.encode())
            inner = json.loads(plain)
            opened = Capture(
                capture_id=str(inner["capture_id"]),
                image_base64=str(inner["image_base64"]),
                liveness=str(inner["liveness"]),
                captured_at=float(inner["captured_at"]),
            )
        except (ValueError, binascii.Error, InvalidTag, KeyError, TypeError):
            raise CaptureError(NOT_A_FILE) from None
        if self._clock() - opened.captured_at > VALID_SECONDS:
            raise CaptureError(CAPTURE_EXPIRED)
        if opened.capture_id in self._used:
            raise CaptureError(CAPTURE_USED)
        return opened

    def spend(self, capture: Capture) -> None:
        """A process was created from it: any later create with it is 10508."""
        self._used.add(capture.capture_id)

    def reset(self) -> None:
        self._used.clear()

"""The image the person saw beside a capture of Unico's SDK (the SDK's `base64`).

It is a reviewer's evidence only: never sent to Unico, so none of Unico's rules apply, but it
must be an image a reviewer's browser shows (PNG, JPEG or WebP, judged by content) and no
larger than `MAX_PREVIEW_BYTES`. It comes as the image's bytes or as the SDK's base64 text
of them (a `data:image/...;base64,` prefix allowed); it is kept as bytes. It only goes with a
capture: a plain image is itself what a reviewer sees.
"""

from __future__ import annotations

import base64
import binascii
import io
import re

from PIL import Image

from activities.selfies.backend import InvalidSelfie
from activities.selfies.inspection import ACCEPTED_FORMATS, is_capture_like

# The SDK's preview is a phone's JPEG; a reviewer's page needs no more.
MAX_PREVIEW_BYTES = 2 * 1024 * 1024
_DATA_URI = re.compile(rb"data:image/[a-z0-9.+-]+;base64,", re.IGNORECASE)


def preview_image(data: bytes, beside: bytes) -> bytes:
    """The preview's image bytes, refused (`InvalidSelfie`) unless `beside` is a capture and
    the preview an image of an accepted format within the size limit."""
    if not is_capture_like(beside):
        raise InvalidSelfie(
            "a preview goes beside a capture of Unico's SDK; a plain image is its own evidence"
        )
    image = _decoded(data)
    if len(image) > MAX_PREVIEW_BYTES:
        raise InvalidSelfie(f"the preview is {len(image)} bytes; at most {MAX_PREVIEW_BYTES}")
    try:
        with Image.open(io.BytesIO(image)) as opened:
            fmt = opened.format or "unknown"
    except Exception:  # untrusted bytes: any parser failure means "not an image"
        raise InvalidSelfie("the preview is not an image (PNG, JPEG or WebP)") from None
    if fmt not in ACCEPTED_FORMATS:
        raise InvalidSelfie(f"the preview is a {fmt} image; PNG, JPEG or WebP is shown")
    return image


def _decoded(data: bytes) -> bytes:
    """Base64 text (the SDK's form) decoded; anything else as it came."""
    text = _DATA_URI.sub(b"", data.strip(), count=1)
    if not text or not text[:64].isascii():
        return data
    try:
        return base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return data  # not base64: judged as the image's own bytes

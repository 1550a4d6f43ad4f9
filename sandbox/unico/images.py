"""The selfie checks Unico runs on a plain base64 `imageBase64` (seed 004).

`image_error` answers the Unico code of the first check that fails, or None. Pillow reads
only the header and verifies the file structure: no pixel data is decoded, so a
decompression bomb costs nothing, and Pillow's own bomb guard is caught as a bad image.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings

from PIL import Image, UnidentifiedImageError

MAX_BYTES = 800 * 1024
MIN_LONG_SIDE, MIN_SHORT_SIDE = 640, 480  # either orientation: selfies are usually portrait
FORMATS = frozenset({"PNG", "JPEG", "WEBP"})

NOT_BASE64_IMAGE = 20900
UNSUPPORTED_FORMAT = 20505
TOO_LARGE = 20506
TOO_SMALL = 20807


def image_error(image_base64: str) -> int | None:
    if image_base64.startswith("data:"):
        return UNSUPPORTED_FORMAT  # seed 004: an invalid prefix is a 20505
    try:
        raw = base64.b64decode("".join(image_base64.split()), validate=True)
    except (binascii.Error, ValueError):
        return NOT_BASE64_IMAGE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw)) as img:
                img_format, (width, height) = img.format, img.size
                img.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return NOT_BASE64_IMAGE
    except (OSError, SyntaxError, ValueError):  # truncated or corrupt: what verify() raises
        return NOT_BASE64_IMAGE
    if img_format not in FORMATS:
        return UNSUPPORTED_FORMAT
    if len(raw) > MAX_BYTES:
        return TOO_LARGE
    if max(width, height) < MIN_LONG_SIDE or min(width, height) < MIN_SHORT_SIDE:
        return TOO_SMALL
    return None

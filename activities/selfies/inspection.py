"""Selfie inspection: Unico's image checks, made here so a bad selfie never costs a call.

`inspect_image` judges the bytes by content, never by a file name or a declared type, and
answers with the Unico code that the same image would get from Unico (seed 004). The checks,
in this order:

- no bytes at all: 20009;
- not an image Pillow can identify: 20900;
- an image, but not PNG, JPEG or WebP: 20505;
- more than 800 KB (800 * 1024 bytes), or more than `MAX_PIXELS` pixels (a decompression
  bomb, whether Pillow refuses it on opening or we do on reading its size): 20506;
- a resolution below 640 x 480, by the rule below: 20807;
- a damaged body, as far as `verify()` can tell: 20900.

Resolution rule: Unico asks for "HD or more than 640 x 480". We accept either orientation,
since a phone selfie is usually portrait: the image needs at least 640 * 480 pixels and a
shorter side of at least 480. So 640x480, 480x640 and 1280x720 pass; 639x480 and 1000x400
do not. Being orientation-free, the rule needs no EXIF rotation.

A capture of Unico's SDK (for liveness) is told apart by content too: ASCII text of three
to five base64url segments joined by dots, as the SDK's sealed string is. It is sealed for
Unico and never opened here: only its shape and size are checked (`inspect_capture`), and
Unico judges the rest (10507 past 10 minutes, 10508 used before, its own refusal of an
altered one).

Only the header is parsed and `verify()` run (PNG checks its chunk CRCs; JPEG and WebP have
no verify in Pillow, so a truncated one passes here and is Unico's to refuse). Pixels are
never decoded, and the pixel count is checked before anything else reads the image.
"""

from __future__ import annotations

import io
import re

from PIL import Image

from contracts.unico import SelfieCheck

CODE_MISSING = 20009
CODE_UNSUPPORTED_FORMAT = 20505
CODE_TOO_LARGE = 20506
CODE_LOW_RESOLUTION = 20807
CODE_NOT_AN_IMAGE = 20900

MAX_BYTES = 800 * 1024
MIN_PIXELS = 640 * 480
MIN_SIDE = 480
# Far above any camera a selfie comes from, and below Pillow's own warning threshold
# (about 89 MP), which we leave as it is: it is process-wide.
MAX_PIXELS = 50_000_000

# Unico's limit is 800 KB of image; sealed, base64 twice over, that is about 1.5 MB.
MAX_CAPTURE_BYTES = 2 * 1024 * 1024
_CAPTURE = re.compile(rb"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){2,4}")
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8", b"RIFF")

# Pillow's format names; phones often write multi-picture JPEGs, which Pillow calls MPO.
ACCEPTED_FORMATS = frozenset({"PNG", "JPEG", "MPO", "WEBP"})


# Every refusal, with its code: the table the docs show beside the request's own.
REFUSALS: tuple[tuple[str, int], ...] = (
    ("no selfie under `selfie_ref`, or an empty image", CODE_MISSING),
    ("not an image (by content, never by name), or damaged", CODE_NOT_AN_IMAGE),
    ("an image, but not PNG, JPEG or WebP", CODE_UNSUPPORTED_FORMAT),
    ("over 800 KB, or over 50 million pixels (a decompression bomb)", CODE_TOO_LARGE),
    ("under 640x480 (either orientation)", CODE_LOW_RESOLUTION),
    ("a capture of Unico's SDK that is not dot-joined base64url text", CODE_NOT_AN_IMAGE),
    ("a capture over 2 MB", CODE_TOO_LARGE),
)


def inspect_selfie(data: bytes) -> SelfieCheck:
    """A capture of Unico's SDK or a plain image, by content; then its own checks."""
    if is_capture_like(data):
        return inspect_capture(data)
    return inspect_image(data)


def is_capture_like(data: bytes) -> bool:
    """Text with a dot near its start and no image signature: meant as a capture."""
    return not data.startswith(_IMAGE_MAGIC) and b"." in data[:4096] and data[:64].isascii()


def inspect_capture(data: bytes) -> SelfieCheck:
    if len(data) > MAX_CAPTURE_BYTES:
        return _refuse(
            CODE_TOO_LARGE, f"the capture is {len(data)} bytes; at most {MAX_CAPTURE_BYTES}"
        )
    if not _CAPTURE.fullmatch(data.strip()):
        return _refuse(
            CODE_NOT_AN_IMAGE,
            "the capture is not the SDK's sealed string (base64url segments joined by dots)",
        )
    return SelfieCheck(ok=True, capture=True)


def inspect_image(data: bytes) -> SelfieCheck:
    """Whether Unico would accept `data` as a selfie; if not, the code and why, in words."""
    if not data:
        return _refuse(CODE_MISSING, "no selfie was given: the image is empty")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        return _refuse(
            CODE_TOO_LARGE,
            f"the image claims more than {MAX_PIXELS} pixels (a possible decompression bomb)",
        )
    except Exception:  # untrusted bytes: any parser failure means "not an image"
        return _refuse(
            CODE_NOT_AN_IMAGE, "the selfie is not an image (expected PNG, JPEG or WebP bytes)"
        )
    with image:
        return _inspect_opened(image, len(data))


def _inspect_opened(image: Image.Image, size: int) -> SelfieCheck:
    fmt = image.format or "unknown"
    if fmt not in ACCEPTED_FORMATS:
        return _refuse(
            CODE_UNSUPPORTED_FORMAT,
            f"the selfie is a {fmt} image; Unico accepts only PNG, JPEG or WebP",
        )
    if size > MAX_BYTES:
        return _refuse(
            CODE_TOO_LARGE,
            f"the selfie is {size} bytes; Unico accepts at most {MAX_BYTES} (800 KB); "
            "a JPEG at quality 92 usually fits without visible loss",
        )
    width, height = image.size
    if width * height > MAX_PIXELS:
        return _refuse(
            CODE_TOO_LARGE,
            f"the selfie is {width}x{height}, more than {MAX_PIXELS} pixels "
            "(a possible decompression bomb); resize it",
        )
    if width * height < MIN_PIXELS or min(width, height) < MIN_SIDE:
        return _refuse(
            CODE_LOW_RESOLUTION,
            f"the selfie is {width}x{height}; Unico needs at least 640x480, in either "
            "orientation (at least 307200 pixels, shorter side at least 480)",
        )
    try:
        image.verify()
    except Exception:  # the header was fine, the body is not
        return _refuse(CODE_NOT_AN_IMAGE, f"the selfie is a damaged or truncated {fmt} image")
    return SelfieCheck(ok=True)


def _refuse(code: int, message: str) -> SelfieCheck:
    return SelfieCheck(ok=False, code=code, message=message)

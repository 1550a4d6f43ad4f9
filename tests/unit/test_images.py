"""inspect_image: one row per path through the checks, each image made here with Pillow."""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

import onboarding
from activities.selfies.inspection import MAX_BYTES, inspect_image, inspect_selfie

SAMPLE_SELFIE = Path(onboarding.__file__).parent / "assets" / "sample-selfie.jpg"


def encode(fmt: str, size: tuple[int, int], **params: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 150, 120)).save(buffer, fmt, **params)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge image: decoding it would be the bomb."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def noisy_png(size: tuple[int, int]) -> bytes:
    """Random pixels do not compress: 700x500 makes a PNG of about 1 MB."""
    pixels = random.Random(7).randbytes(size[0] * size[1] * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(buffer, "PNG")
    return buffer.getvalue()


def truncated_png() -> bytes:
    data = noisy_png((640, 480))
    return data[: len(data) // 2]


def jpeg_padded_to(total: int) -> bytes:
    """A valid JPEG with bytes after its end marker, to hit the size limit exactly."""
    data = encode("JPEG", (640, 480))
    return data + b"\x00" * (total - len(data))


def mpo() -> bytes:
    """A multi-picture JPEG, as phones write them; Pillow calls the format MPO."""
    buffer = io.BytesIO()
    first, second = Image.new("RGB", (640, 480)), Image.new("RGB", (640, 480), (9, 9, 9))
    first.save(buffer, "MPO", save_all=True, append_images=[second])
    return buffer.getvalue()


# (id, make the bytes, expected code, a words fragment the refusal must contain)
CASES: list[tuple[str, Callable[[], bytes], int | None, str | None]] = [
    ("empty", lambda: b"", 20009, "empty"),
    ("text", lambda: b"hello, this is a letter and not a selfie", 20900, "not an image"),
    ("injection", lambda: b"<script>alert(1)</script>" * 40, 20900, "not an image"),
    ("gif", lambda: encode("GIF", (800, 600)), 20505, "GIF"),
    ("bmp", lambda: encode("BMP", (800, 600)), 20505, "BMP"),
    ("tiff", lambda: encode("TIFF", (800, 600)), 20505, "TIFF"),
    ("jpeg-too-small", lambda: encode("JPEG", (320, 240)), 20807, "320x240"),
    ("jpeg-one-pixel-short", lambda: encode("JPEG", (639, 480)), 20807, "639x480"),
    ("jpeg-wide-but-short", lambda: encode("JPEG", (1000, 400)), 20807, "1000x400"),
    ("png-noisy-over-800kb", lambda: noisy_png((700, 500)), 20506, "800 KB"),
    ("jpeg-one-byte-over-800kb", lambda: jpeg_padded_to(MAX_BYTES + 1), 20506, "819201 bytes"),
    (
        "png-bomb-pillow-refuses",
        lambda: png_header_claiming(100_000, 100_000),
        20506,
        "decompression bomb",
    ),
    ("png-bomb-our-limit", lambda: png_header_claiming(8000, 8000), 20506, "8000x8000"),
    ("png-truncated", truncated_png, 20900, "damaged"),
    ("jpeg-640x480", lambda: encode("JPEG", (640, 480)), None, None),
    ("jpeg-portrait-480x640", lambda: encode("JPEG", (480, 640)), None, None),
    ("jpeg-exactly-800kb", lambda: jpeg_padded_to(MAX_BYTES), None, None),
    ("png-1280x720", lambda: encode("PNG", (1280, 720)), None, None),
    ("webp-800x600", lambda: encode("WEBP", (800, 600)), None, None),
    ("mpo-phone-jpeg", mpo, None, None),
    ("shipped-sample", SAMPLE_SELFIE.read_bytes, None, None),
]


@pytest.mark.parametrize(
    ("make", "code", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_inspect_image(make: Callable[[], bytes], code: int | None, words: str | None) -> None:
    check = inspect_image(make())
    assert check.code == code
    assert check.ok is (code is None)
    if words is None:
        assert check.message is None
    else:
        assert check.message is not None and words in check.message


def test_the_sample_is_small_and_a_jpeg() -> None:
    data = SAMPLE_SELFIE.read_bytes()
    assert data[:3] == b"\xff\xd8\xff"
    assert len(data) < 200 * 1024


def test_pillow_global_limit_is_left_alone() -> None:
    limit = Image.MAX_IMAGE_PIXELS
    inspect_image(png_header_claiming(100_000, 100_000))
    inspect_image(encode("JPEG", (640, 480)))
    assert limit == Image.MAX_IMAGE_PIXELS


# A capture of Unico's SDK: sealed text, told from an image by content and sent as it is.
SEALED = b"eyJ0eXAiOiJ1bmljby1jYXB0dXJlIn0.bm9uY2U.Ym94LW9mLXRoZS1jYXB0dXJl"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (SEALED, None),
        (SEALED + b"\n", None),  # a file that ends in a new line
        (b"a.b.c.d.e", None),  # five segments, as a JWE's
        (b"eyJhbGciOi.J9", 20900),  # two segments
        (b"eyJ0eXAi.bm9u+Y2U.Ym94", 20900),  # not base64url
        (b"eyJ0eXAi." + b"A" * (2 * 1024 * 1024), 20506),
    ],
    ids=["sealed", "trailing-newline", "five-segments", "two-segments", "not-base64url", "big"],
)
def test_a_capture_is_told_apart_by_content_and_checked_by_shape(
    data: bytes, code: int | None
) -> None:
    check = inspect_selfie(data)
    assert check.code == code, check.message
    assert check.ok == (code is None) and check.capture == (code is None)


def test_an_image_is_never_taken_for_a_capture() -> None:
    check = inspect_selfie(encode("JPEG", (640, 480)))
    assert check.ok and not check.capture

"""What one upload, and all of them, may cost the gateway's memory.

GATEWAY_MAX_CONCURRENT_UPLOADS: an upload past the limit is answered 503 with Retry-After,
before its body is read, and goes through once a slot is free again. The store's size limit:
an upload is refused as soon as its body passes it, while the client is still sending.

The gateway runs as its process, over real HTTP; the upload in flight is a real slow client,
its body held back half-way.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from activities.selfies.backend import MAX_SELFIE_BYTES
from onboarding.gateway.uploads import MULTIPART_OVERHEAD, PREVIEW_FIELD_BYTES
from onboarding.runtime.settings import Settings
from onboarding.temporal.client import store_selfie
from tests.support import GATEWAY_TOKEN, running_gateway

SELFIE = (Path(__file__).parents[2] / "onboarding" / "assets" / "sample-selfie.jpg").read_bytes()
HEADERS = {"authorization": f"Bearer {GATEWAY_TOKEN}", "content-type": "image/jpeg"}


async def held_back(image: bytes, release: asyncio.Event) -> AsyncIterator[bytes]:
    """The image's first half now, the rest once `release` is set: a slow upload."""
    yield image[: len(image) // 2]
    await release.wait()
    yield image[len(image) // 2 :]


ADMITTED = "selfie upload admitted: 1 of 1 in flight"  # at LOG_LEVEL=DEBUG
TURNED_AWAY = "selfie upload turned away: 1 upload(s) in flight"
LIMIT_OF_ONE = {"gateway_max_concurrent_uploads": "1", "log_level": "DEBUG"}


async def until_logged(log: Path, line: str, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while line not in log.read_text():
        assert asyncio.get_running_loop().time() < deadline, f"never logged: {line}"
        await asyncio.sleep(0.02)


def stored(selfies: Path) -> list[bytes]:
    return [path.read_bytes() for path in selfies.glob("*") if path.is_file()]


async def test_an_upload_past_the_limit_is_503_until_a_slot_is_free(tmp_path: Path) -> None:
    selfies, log = tmp_path / "selfies", tmp_path / "gateway.log"
    with running_gateway(log, selfies, **LIMIT_OF_ONE) as url:
        async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=30) as http:
            release = asyncio.Event()
            slow = asyncio.create_task(http.post("/selfies", content=held_back(SELFIE, release)))
            await until_logged(log, ADMITTED)  # the slow upload holds the only slot

            turned_away = await http.post("/selfies", content=SELFIE)
            assert turned_away.status_code == 503
            assert turned_away.headers["retry-after"] == "1"
            assert "in flight" in turned_away.json()["error"]
            assert stored(selfies) == []

            release.set()
            assert (await slow).status_code == 201
            again = await http.post("/selfies", content=SELFIE)
            assert again.status_code == 201
    assert stored(selfies) == [SELFIE, SELFIE]
    assert TURNED_AWAY in log.read_text()


async def test_the_client_library_retries_a_busy_gateway(tmp_path: Path) -> None:
    """`store_selfie` (the CLI's, the demo's) waits out the 503 rather than failing."""
    selfies, log = tmp_path / "selfies", tmp_path / "gateway.log"
    with running_gateway(log, selfies, **LIMIT_OF_ONE) as url:
        settings = Settings(gateway_url=url, gateway_api_token=GATEWAY_TOKEN)
        async with httpx.AsyncClient(base_url=url, headers=HEADERS, timeout=30) as http:
            release = asyncio.Event()
            slow = asyncio.create_task(http.post("/selfies", content=held_back(SELFIE, release)))
            await until_logged(log, ADMITTED)
            waiting = asyncio.create_task(store_selfie(settings, SELFIE))
            await until_logged(log, TURNED_AWAY)
            release.set()
            assert (await slow).status_code == 201
            assert (await waiting).startswith("local:")
    assert stored(selfies) == [SELFIE, SELFIE]


def test_a_limit_of_zero_uploads_is_refused() -> None:
    with pytest.raises(ValidationError, match="gateway_max_concurrent_uploads"):
        Settings.model_validate({"gateway_max_concurrent_uploads": 0})


def chunked(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


MULTIPART_LIMIT = MAX_SELFIE_BYTES + PREVIEW_FIELD_BYTES + MULTIPART_OVERHEAD
BOUNDARY = "limit-test-boundary"
FIRST_PART = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="selfie"; filename="me.jpg"\r\n'
    "Content-Type: image/jpeg\r\n\r\n"
).encode()


@pytest.mark.parametrize(
    ("content_type", "opening", "limit"),
    [
        ("image/jpeg", b"", MAX_SELFIE_BYTES),
        (f"multipart/form-data; boundary={BOUNDARY}", FIRST_PART, MULTIPART_LIMIT),
    ],
    ids=["raw", "multipart"],
)
async def test_an_oversized_upload_is_refused_before_its_body_ends(
    tmp_path: Path, content_type: str, opening: bytes, limit: int
) -> None:
    """One byte past the limit, and the body never ends (chunked, no last chunk): the answer
    comes all the same, so the gateway neither waited for the whole body nor buffered it."""
    body = opening + b"x" * (limit + 1 - len(opening))
    with running_gateway(tmp_path / "gateway.log", tmp_path / "selfies") as url:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        head = (
            f"POST /selfies HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
            f"Authorization: Bearer {GATEWAY_TOKEN}\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        writer.write(head.encode())
        for start in range(0, len(body), 64 * 1024):
            writer.write(chunked(body[start : start + 64 * 1024]))
            await writer.drain()
        status = await asyncio.wait_for(reader.readline(), 10)
        writer.close()
    assert status.startswith(b"HTTP/1.1 400 ")
    assert stored(tmp_path / "selfies") == []

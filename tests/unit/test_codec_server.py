"""The codec server's protocol, authentication and CORS, in process over ASGI.

The same server runs as a real process, driven by the `temporal` CLI, in
tests/workflow/test_privacy.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.api.common.v1 import Payload, Payloads

from activities.selfies.local_store import SelfieStore
from onboarding.gateway.service import create_gateway
from onboarding.runtime.settings import Settings
from onboarding_client.codec import EncryptionCodec
from onboarding_client.keyring import Keyring
from tests.support import TEST_KEYS, fixed_key

TOKEN = "codec-test-token"
UI = "http://127.0.0.1:8233"
TRUSTED = "http://127.0.0.1:9999"
CLEAR = Payload(metadata={"encoding": b"json/plain"}, data=b'{"name": "Maria Silva"}')


def body(*payloads: Payload) -> dict[str, Any]:
    return MessageToDict(Payloads(payloads=list(payloads)))


def first_payload(response: httpx.Response) -> Payload:
    (entry,) = response.json()["payloads"]
    return Payload(
        metadata={k: base64.b64decode(v) for k, v in entry["metadata"].items()},
        data=base64.b64decode(entry.get("data", "")),
    )


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        selfie_dir=tmp_path,
        codec_auth_token=TOKEN,
        codec_cors_origins=f"{UI},{TRUSTED}",
        codec_dev_trusted_origins=TRUSTED,
        gateway_routes="codec",
    )
    codec = EncryptionCodec(Keyring.parse(TEST_KEYS))
    app = create_gateway(settings, SelfieStore(tmp_path), codec)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        yield client


AUTH = {"Authorization": f"Bearer {TOKEN}", "X-Namespace": "default"}


async def test_encode_then_decode_round_trips(gateway: httpx.AsyncClient) -> None:
    encoded = await gateway.post("/codec/encode", json=body(CLEAR), headers=AUTH)
    assert encoded.status_code == 200
    sealed = first_payload(encoded)
    assert sealed.metadata["encoding"] == b"binary/encrypted"
    assert b"Maria" not in sealed.data
    decoded = await gateway.post("/codec/decode", json=encoded.json(), headers=AUTH)
    assert decoded.status_code == 200
    assert first_payload(decoded) == CLEAR


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Origin": UI},  # allowed by CORS, but not trusted without a token
    ],
    ids=["none", "wrong-token", "no-scheme", "basic", "cors-origin-only"],
)
@pytest.mark.parametrize("path", ["/codec/encode", "/codec/decode"])
async def test_without_the_token_it_is_401(
    gateway: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> None:
    response = await gateway.post(path, json=body(CLEAR), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "payloads" not in response.json()


async def test_a_trusted_dev_origin_may_decode_and_encode(gateway: httpx.AsyncClient) -> None:
    """The local UI shows payloads (decode) and seals what an operator sends from it, a
    reviewer's note in "send update" (encode)."""
    sealed = await gateway.post("/codec/encode", json=body(CLEAR), headers={"Origin": TRUSTED})
    assert sealed.status_code == 200
    assert sealed.json() != body(CLEAR)
    decoded = await gateway.post("/codec/decode", json=sealed.json(), headers={"Origin": TRUSTED})
    assert decoded.status_code == 200
    assert first_payload(decoded) == CLEAR
    assert decoded.headers["access-control-allow-origin"] == TRUSTED


async def test_preflight_from_the_ui_allows_the_headers_it_sends(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.options(
        "/codec/decode",
        headers={
            "Origin": UI,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == UI
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-namespace"} <= set(allowed.split(", "))
    assert "POST" in response.headers["access-control-allow-methods"]


async def test_preflight_from_another_origin_is_refused(gateway: httpx.AsyncClient) -> None:
    response = await gateway.options(
        "/codec/decode",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_a_payload_of_an_unknown_key_is_a_clear_422(gateway: httpx.AsyncClient) -> None:
    other = EncryptionCodec(Keyring.parse(f"retired:{fixed_key('retired')}"))
    (sealed,) = await other.encode([CLEAR])
    response = await gateway.post("/codec/decode", json=body(sealed), headers=AUTH)
    assert response.status_code == 422
    assert "'retired'" in response.json()["error"]


@pytest.mark.parametrize(
    ("content", "status"),
    [(b"not json", 400), (json.dumps({"payloads": "nope"}).encode(), 400)],
)
async def test_malformed_bodies(gateway: httpx.AsyncClient, content: bytes, status: int) -> None:
    response = await gateway.post("/codec/decode", content=content, headers=AUTH)
    assert response.status_code == status


async def test_a_gateway_without_a_codec_serves_no_codec_routes(tmp_path: Path) -> None:
    app = create_gateway(
        Settings(selfie_dir=tmp_path, gateway_routes="codec"), SelfieStore(tmp_path)
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        response = await client.post("/codec/decode", json=body(CLEAR), headers=AUTH)
    assert response.status_code == 404

"""The codec server's protocol, authentication and CORS, in process over ASGI.

The same server runs as a real process, driven by the `temporal` CLI, in
tests/workflow/test_privacy.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.protobuf.json_format import MessageToDict
from starlette.applications import Starlette
from temporalio.api.common.v1 import Payload, Payloads

from activities.selfies.local_store import SelfieStore
from onboarding.gateway.service import create_gateway
from onboarding.runtime.errors import SettingsError
from onboarding.runtime.secrets import load_caller_tokens
from onboarding.runtime.settings import Settings
from onboarding_client.codec import EncryptionCodec
from onboarding_client.keyring import Keyring
from onboarding_client.remote_codec import RemoteCodec
from tests.support import TEST_KEYS, fixed_key

TOKEN = "codec-test-token"
CALLER_TOKEN = "caller-test-token-of-the-shop"
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
def app(tmp_path: Path) -> Starlette:
    settings = Settings(
        selfie_dir=tmp_path,
        codec_auth_token=TOKEN,
        codec_cors_origins=f"{UI},{TRUSTED}",
        codec_dev_trusted_origins=TRUSTED,
        codec_caller_tokens=f"shop:{CALLER_TOKEN}, bank:{'b' * 20}",
        gateway_routes="codec",
    )
    codec = EncryptionCodec(Keyring.parse(TEST_KEYS))
    return create_gateway(settings, SelfieStore(tmp_path), codec)


@pytest.fixture
async def gateway(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
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


CALLER = {"Authorization": f"Bearer {CALLER_TOKEN}"}


def json_payload(value: object) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=json.dumps(value).encode())


ANSWERS = {
    "result": {"outcome": "approved", "reasons": [], "attempts": 1, "review": None},
    "status": {"stage": "waiting", "attempts": 1, "polls": 2},
    "otp": {"accepted": True, "recovery_code": "RECOVERY"},
    "failure": {"message": "the update was refused", "stack_trace": ""},
}
NOT_FOR_CALLERS = {
    "input": {
        "request_id": "r-1",
        "subject": {"code": "12345678909", "name": "Maria Silva"},
        "selfie_ref": "local:" + "0" * 32,
    },
    "result with more": {"outcome": "approved", "subject": {"name": "Maria Silva"}},
    "review brief": {"reasons": [], "score": 28, "waiting_since": "2026-12-06T00:00:00Z"},
    "a string": "Maria Silva",
    "empty": {},
}


async def sealed(gateway: httpx.AsyncClient, payload: Payload) -> dict[str, Any]:
    response = await gateway.post("/codec/encode", json=body(payload), headers=CALLER)
    assert response.status_code == 200  # a caller's token seals anything
    return dict(response.json())


@pytest.mark.parametrize("name", sorted(ANSWERS))
async def test_a_callers_token_opens_the_answers_meant_for_callers(
    gateway: httpx.AsyncClient, name: str
) -> None:
    payload = json_payload(ANSWERS[name])
    opened = await gateway.post(
        "/codec/decode", json=await sealed(gateway, payload), headers=CALLER
    )
    assert opened.status_code == 200
    assert first_payload(opened) == payload


@pytest.mark.parametrize("name", sorted(NOT_FOR_CALLERS))
async def test_a_callers_token_gets_anything_else_back_still_sealed(
    gateway: httpx.AsyncClient, name: str
) -> None:
    payload = json_payload(NOT_FOR_CALLERS[name])
    sealed_body = await sealed(gateway, payload)
    opened = await gateway.post("/codec/decode", json=sealed_body, headers=CALLER)
    assert opened.status_code == 200
    assert first_payload(opened).metadata["encoding"] == b"binary/encrypted"
    assert b"Maria" not in first_payload(opened).data
    by_operator = await gateway.post("/codec/decode", json=sealed_body, headers=AUTH)
    assert first_payload(by_operator) == payload  # the operator's token opens it


async def test_a_callers_decode_opens_what_it_may_and_keeps_the_rest_in_one_call(
    gateway: httpx.AsyncClient,
) -> None:
    result, person = json_payload(ANSWERS["result"]), json_payload(NOT_FOR_CALLERS["input"])
    both = await gateway.post("/codec/encode", json=body(result, person), headers=CALLER)
    opened = await gateway.post("/codec/decode", json=both.json(), headers=CALLER)
    entries = opened.json()["payloads"]
    assert len(entries) == 2
    assert base64.b64decode(entries[0]["data"]) == result.data
    assert base64.b64decode(entries[1]["metadata"]["encoding"]) == b"binary/encrypted"


@pytest.mark.parametrize(
    "tokens",
    ["shop", "shop:short", "sh op:" + "x" * 20, f"shop:{'x' * 20},shop:{'y' * 20}"],
    ids=["no-token", "short-token", "bad-name", "twice"],
)
def test_malformed_caller_tokens_are_refused_at_start(tmp_path: Path, tokens: str) -> None:
    settings = Settings(selfie_dir=tmp_path, codec_caller_tokens=tokens)
    with pytest.raises(SettingsError, match="CODEC_CALLER_TOKENS"):
        load_caller_tokens(settings)


def test_caller_tokens_come_from_a_file_too(tmp_path: Path) -> None:
    tokens = tmp_path / "callers"
    tokens.write_text(f"# the calling services\nshop:{'s' * 20}\nbank:{'b' * 20}\n")
    tokens.chmod(0o600)
    settings = Settings(selfie_dir=tmp_path, codec_caller_tokens_file=tokens)
    assert load_caller_tokens(settings) == {"shop": "s" * 20, "bank": "b" * 20}


async def test_a_remote_codec_keeps_one_client_per_event_loop(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[httpx.AsyncClient] = []

    class Recorded(httpx.AsyncClient):
        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            made.append(self)

    monkeypatch.setattr(httpx, "AsyncClient", Recorded)
    codec = RemoteCodec("http://gateway/codec/", CALLER_TOKEN, httpx.ASGITransport(app=app))
    answer = json_payload(ANSWERS["result"])

    async def round_trip() -> list[Payload]:
        return await codec.decode(await codec.encode([answer]))

    assert await round_trip() == await round_trip() == [answer]
    assert len(made) == 1

    async def in_another_loop() -> list[Payload]:
        try:
            return await round_trip()
        finally:
            await codec.aclose()

    # A loop of its own (asyncio.run in a thread), as a second test's or a CLI's.
    assert await asyncio.to_thread(asyncio.run, in_another_loop()) == [answer]
    assert len(made) == 2 and made[1].is_closed and not made[0].is_closed
    await codec.aclose()
    assert made[0].is_closed
    assert await round_trip() == [answer] and len(made) == 3  # closed: a new one
    await codec.aclose()

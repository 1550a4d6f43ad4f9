"""The gateway's selfie upload and health check: in process over ASGI, and as its process."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from activities.selfies.local_store import SelfieStore
from devstack.stack import free_port
from onboarding.gateway import service as gateway
from onboarding.gateway.service import create_gateway
from onboarding.runtime import entry
from onboarding.runtime.errors import SettingsError
from onboarding.runtime.settings import Settings
from tests.support import GATEWAY_TOKEN, LOOPBACK, TEST_KEYS, running_gateway

AUTHORIZED = {"authorization": f"Bearer {GATEWAY_TOKEN}"}


# Shaped like the SDK's sealed string; the gateway never opens it.
CAPTURE = b"eyJhbGciOiJkaXIifQ..c2VhbGVk.Ym9keQ.dGFn"


def gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "GIF")
    return buffer.getvalue()


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 150, 120)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> SelfieStore:
    return SelfieStore(tmp_path / "selfies", max_bytes=100_000)


@pytest.fixture
async def client(store: SelfieStore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_gateway(Settings(selfie_dir=store.root, gateway_api_token=GATEWAY_TOKEN), store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://gateway", headers=AUTHORIZED
    ) as client:
        yield client


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "application/octet-stream"])
async def test_raw_upload(client: httpx.AsyncClient, store: SelfieStore, content_type: str) -> None:
    data = jpeg()
    response = await client.post("/selfies", content=data, headers={"content-type": content_type})
    assert response.status_code == 201
    assert store.get(response.json()["selfie_ref"]) == data


async def test_multipart_upload(client: httpx.AsyncClient, store: SelfieStore) -> None:
    data = jpeg()
    response = await client.post(
        "/selfies", files={"selfie": ("me.jpg", data, "image/jpeg")}, data={"note": "hi"}
    )
    assert response.status_code == 201
    assert store.get(response.json()["selfie_ref"]) == data


async def test_the_upload_does_not_inspect(client: httpx.AsyncClient, store: SelfieStore) -> None:
    # The workflow's activity refuses it later with Unico's code (20900), not the gateway.
    response = await client.post(
        "/selfies", content=b"not an image", headers={"content-type": "application/octet-stream"}
    )
    assert response.status_code == 201
    assert store.get(response.json()["selfie_ref"]) == b"not an image"


async def test_a_capture_keeps_the_image_the_person_saw_beside_it(
    client: httpx.AsyncClient, store: SelfieStore
) -> None:
    preview = jpeg()
    files = {"selfie": ("capture", CAPTURE, None), "preview": ("me.jpg", preview, "image/jpeg")}
    response = await client.post("/selfies", files=files)
    assert response.status_code == 201
    ref = response.json()["selfie_ref"]
    assert (store.get(ref), store.get_preview(ref)) == (CAPTURE, preview)


async def test_a_preview_may_come_as_the_sdk_s_base64(
    client: httpx.AsyncClient, store: SelfieStore
) -> None:
    preview = jpeg()
    text = b"data:image/jpeg;base64," + base64.b64encode(preview)
    response = await client.post(
        "/selfies", files={"selfie": ("c", CAPTURE, None), "preview": ("p", text, None)}
    )
    assert response.status_code == 201
    assert store.get_preview(response.json()["selfie_ref"]) == preview


REFUSALS: list[tuple[str, dict[str, Any], int, str]] = [
    ("empty-raw", {"content": b"", "headers": {"content-type": "image/jpeg"}}, 400, "empty"),
    (
        "too-large-raw",
        {"content": b"x" * 100_001, "headers": {"content-type": "image/jpeg"}},
        400,
        "larger",
    ),
    (
        "too-large-multipart",
        {"files": {"selfie": ("me.jpg", b"x" * 5_000_000, "image/jpeg")}},
        400,
        "larger",
    ),
    (
        "selfie-part-over-the-store-limit",
        {"files": {"selfie": ("me.jpg", b"x" * 200_000, "image/jpeg")}},
        400,
        "at most 100000",
    ),
    ("empty-multipart", {"files": {"selfie": ("me.jpg", b"", "image/jpeg")}}, 400, "empty"),
    (
        "multipart-other-field",
        {"files": {"photo": ("me.jpg", b"x", "image/jpeg")}},
        400,
        "'selfie'",
    ),
    ("multipart-text-field", {"files": {"selfie": (None, b"x")}}, 400, "'selfie'"),
    (
        "multipart-two-files",
        {"files": [("selfie", ("a.jpg", b"x", "image/jpeg")), ("b", ("b.jpg", b"y", None))]},
        400,
        "unexpected file field(s) ['b']",
    ),
    (
        "multipart-three-files",
        {
            "files": [
                ("selfie", ("a", CAPTURE, None)),
                ("preview", ("b", b"y", None)),
                ("preview", ("c", b"z", None)),
            ]
        },
        400,
        "multipart",
    ),
    (
        "preview-beside-a-plain-image",
        {"files": {"selfie": ("me.jpg", b"\xff\xd8x", None), "preview": ("p", b"y", None)}},
        400,
        "beside a capture",
    ),
    (
        "preview-not-an-image",
        {"files": {"selfie": ("c", CAPTURE, None), "preview": ("p", b"not an image", None)}},
        400,
        "not an image",
    ),
    (
        "preview-a-gif",
        {"files": {"selfie": ("c", CAPTURE, None), "preview": ("p", gif(), None)}},
        400,
        "GIF",
    ),
    (
        "preview-as-a-text-field",
        {"files": {"selfie": ("c", CAPTURE, None)}, "data": {"preview": "x"}},
        400,
        "must be a file field",
    ),
    (
        "multipart-no-boundary",
        {"content": b"x", "headers": {"content-type": "multipart/form-data"}},
        400,
        "multipart",
    ),
    ("text-plain", {"content": b"x", "headers": {"content-type": "text/plain"}}, 415, "raw body"),
    ("no-content-type", {"content": b"x"}, 415, "raw body"),
]


@pytest.mark.parametrize(
    ("request_args", "status", "words"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
async def test_refusals(
    client: httpx.AsyncClient,
    store: SelfieStore,
    request_args: dict[str, Any],
    status: int,
    words: str,
) -> None:
    response = await client.post("/selfies", **request_args)
    assert response.status_code == status
    assert words in response.json()["error"]
    assert list(store.root.iterdir()) == []


async def test_get_selfies_is_not_allowed(client: httpx.AsyncClient) -> None:
    assert (await client.get("/selfies")).status_code == 405


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token", f"Basic {GATEWAY_TOKEN}", f"{GATEWAY_TOKEN}"],
)
async def test_an_upload_without_the_token_is_refused_and_nothing_stored(
    store: SelfieStore, authorization: str | None
) -> None:
    app = create_gateway(Settings(selfie_dir=store.root, gateway_api_token=GATEWAY_TOKEN), store)
    headers = {"content-type": "image/jpeg"}
    if authorization is not None:
        headers["authorization"] = authorization
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as anonymous:
        response = await anonymous.post("/selfies", content=jpeg(), headers=headers)
        health = await anonymous.get("/healthz")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="selfies"'
    assert "GATEWAY_API_TOKEN" in response.json()["error"]
    assert list(store.root.iterdir()) == []
    assert (health.status_code, health.json()) == (200, {"status": "ok"})  # open, says nothing


@pytest.mark.parametrize("token", [None, "", "   "])
def test_uploads_without_a_token_stop_the_start(store: SelfieStore, token: str | None) -> None:
    with pytest.raises(SettingsError, match="GATEWAY_API_TOKEN"):
        create_gateway(Settings(selfie_dir=store.root, gateway_api_token=token), store)


async def test_a_gateway_without_uploads_needs_no_token(store: SelfieStore) -> None:
    settings = Settings(selfie_dir=store.root, gateway_routes="codec")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_gateway(settings, store)), base_url="http://g"
    ) as anonymous:
        refused = await anonymous.post("/selfies", content=jpeg(), headers=AUTHORIZED)
        assert refused.status_code == 404  # not served at all
        assert (await anonymous.get("/healthz")).status_code == 200


def test_the_webhook_alone_serves_no_upload_and_needs_a_temporal_client(
    store: SelfieStore,
) -> None:
    settings = Settings(
        selfie_dir=store.root,
        gateway_routes="webhook",
        webhook_auth="bearer",
        webhook_bearer_token="t",
    )
    with pytest.raises(ValueError, match="Temporal client"):
        create_gateway(settings, store)


def test_main_refuses_bad_settings_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "not-a-port")
    assert gateway.main() == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "GATEWAY_PORT" in err


def test_main_refuses_to_start_without_an_encryption_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ONBOARDING_ENCRYPTION_KEYS", raising=False)
    monkeypatch.delenv("ONBOARDING_ENCRYPTION_KEYS_FILE", raising=False)
    monkeypatch.setattr("uvicorn.Server.serve", lambda *args, **kwargs: pytest.fail("it started"))
    monkeypatch.setattr(entry, "configure_logging", lambda level: None)  # keep pytest's
    assert gateway.main() == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "ONBOARDING_ENCRYPTION_KEYS" in err


def test_the_gateway_process_serves_uploads_to_token_holders_only(tmp_path: Path) -> None:
    selfies = tmp_path / "selfies"
    with running_gateway(tmp_path / "gateway.log", selfies) as url:
        anonymous = httpx.post(
            f"{url}/selfies", content=jpeg(), headers={"content-type": "image/jpeg"}
        )
        stored = httpx.post(
            f"{url}/selfies", content=jpeg(), headers={"content-type": "image/jpeg", **AUTHORIZED}
        )
        health = httpx.get(f"{url}/healthz")
    assert anonymous.status_code == 401
    assert stored.status_code == 201 and stored.json()["selfie_ref"].startswith("local:")
    assert len(list(selfies.iterdir())) == 1
    assert health.json() == {"status": "ok"}
    log = (tmp_path / "gateway.log").read_text()
    assert "selfie upload refused: no valid credentials" in log
    assert GATEWAY_TOKEN not in log


def test_the_gateway_process_refuses_to_start_with_uploads_and_no_token(tmp_path: Path) -> None:
    env = {
        "GATEWAY_HOST": LOOPBACK,
        "GATEWAY_PORT": str(free_port()),
        "SELFIE_DIR": str(tmp_path / "selfies"),
        "ONBOARDING_ENCRYPTION_KEYS": TEST_KEYS,
        "GATEWAY_API_TOKEN": "",  # as Compose passes an unset variable
        "PATH": os.environ["PATH"],
    }
    done = subprocess.run(
        [sys.executable, "-m", "onboarding.gateway"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("onboarding.gateway: GATEWAY_API_TOKEN is not set")

"""The gateway's selfie upload and health check, in process over ASGI."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from activities.selfies import SelfieStore
from onboarding import gateway
from onboarding.gateway import create_gateway
from onboarding.settings import Settings
from tests.support import TEST_KEYS


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 150, 120)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> SelfieStore:
    return SelfieStore(tmp_path / "selfies", max_bytes=100_000)


@pytest.fixture
async def client(store: SelfieStore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_gateway(Settings(selfie_dir=store.root), store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
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
        {"files": {"selfie": ("me.jpg", b"x" * 200_000, "image/jpeg")}},
        400,
        "larger",
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
        "multipart",
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


def test_main_refuses_bad_settings_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GATEWAY_PORT", "not-a-port")
    with pytest.raises(SystemExit) as exit_info:
        gateway.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "GATEWAY_PORT" in err


def test_main_refuses_to_start_without_an_encryption_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ONBOARDING_ENCRYPTION_KEYS", raising=False)
    monkeypatch.delenv("ONBOARDING_ENCRYPTION_KEYS_FILE", raising=False)
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: pytest.fail("it started"))
    monkeypatch.setattr(gateway, "configure_logging", lambda level: None)  # keep pytest's
    with pytest.raises(SystemExit) as exit_info:
        gateway.main()
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "ONBOARDING_ENCRYPTION_KEYS" in err


def test_run_gateway_serves_on_the_configured_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[object, str, int]] = []

    def fake_run(app: object, *, host: str, port: int, log_config: object) -> None:
        calls.append((app, host, port))

    monkeypatch.setattr("uvicorn.run", fake_run)
    settings = Settings(
        selfie_dir=tmp_path / "s",
        gateway_host="0.0.0.0",
        gateway_port=9999,
        onboarding_encryption_keys=TEST_KEYS,
    )
    gateway.run_gateway(settings)
    ((_app, host, port),) = calls
    assert (host, port) == ("0.0.0.0", 9999)
    assert (tmp_path / "s").is_dir()

"""The sandbox's admin endpoints, its request log, its command line and a real server."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from sandbox.__main__ import main
from sandbox.app import create_app
from sandbox.config import ConfigError, load_config
from tests.sandbox.client import (
    ISS,
    assertion,
    bearer,
    create_body,
    make_config,
    private_key,
    public_pem,
    request_token,
)


async def test_health(client: httpx.AsyncClient) -> None:
    response = await client.get("/_sandbox/health")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


async def test_stats_count_every_request(client: httpx.AsyncClient) -> None:
    auth = await bearer(client)
    await request_token(client, assertion(aud="wrong"))
    created = await client.post("/processes/v1", json=create_body(), headers=auth)
    await client.post("/processes/v1", json=create_body("00000000787"), headers=auth)
    await client.post("/processes/v1", json=create_body("12345678900"), headers=auth)
    await client.post("/processes/v1", json=create_body())  # no credentials
    await client.get(f"/processes/v1/{created.json()['id']}", headers=auth)
    await client.get("/processes/v1/unknown", headers=auth)
    await client.get("/_sandbox/health")  # admin calls are not counted

    stats = (await client.get("/_sandbox/stats")).json()
    assert stats == {
        "token_requests": 2,
        "tokens_issued": 1,
        "create_requests": 4,
        "processes_created": 2,  # a process created in status 5 is still created
        "get_requests": 2,
        "entity_create_requests": 0,  # Identity Cloud's (test_sandbox_identity_cloud.py)
        "records_created": 0,
        "entity_requests": 0,
        "entity_find_requests": 0,
        "auth0_token_requests": 0,  # Auth0's and Guardian's (test_sandbox_guardian.py)
        "ticket_requests": 0,
        "start_flow_requests": 0,
        "sms_enroll_requests": 0,
        "sms_sent": 0,
        "verify_otp_requests": 0,
        "enrollments_confirmed": 0,
        "by_status": {"200": 4, "401": 2, "400": 1, "404": 1},
        "by_code": {"1.2.5": 1, "20507": 1, "20001": 1, "50001": 1},
    }


async def test_a_gone_process_counts_as_410(client: httpx.AsyncClient) -> None:
    auth = await bearer(client)
    created = await client.post("/processes/v1", json=create_body("00000000787"), headers=auth)
    await client.get(f"/processes/v1/{created.json()['id']}", headers=auth)
    stats = (await client.get("/_sandbox/stats")).json()
    assert stats["get_requests"] == 1
    assert stats["by_status"] == {"200": 2, "410": 1}


async def test_reset_forgets_everything(client: httpx.AsyncClient) -> None:
    once = assertion(iat=int(time.time()) - 5)  # unlike the one bearer() signs
    auth = await bearer(client)
    assert (await request_token(client, once)).status_code == 200
    created = await client.post("/processes/v1", json=create_body(), headers=auth)
    for _ in range(5):
        await request_token(client, assertion(aud="wrong"))
    assert "1.2.18" in (await request_token(client, assertion())).text

    assert (await client.post("/_sandbox/reset")).json() == {"ok": True}

    stats = (await client.get("/_sandbox/stats")).json()
    assert stats["token_requests"] == 0 and stats["by_status"] == {}
    old = await client.get(f"/processes/v1/{created.json()['id']}", headers=auth)
    assert old.json()["error"]["code"] == 10501  # tokens are gone
    assert (await request_token(client, once)).status_code == 200  # no lock, no used set
    fresh = await bearer(client)
    gone = await client.get(f"/processes/v1/{created.json()['id']}", headers=fresh)
    assert gone.json()["error"]["code"] == 50001  # processes are gone


async def test_config_changes_take_effect_at_once(client: httpx.AsyncClient) -> None:
    identity_cloud = {
        "identity_cloud_find_lag_seconds": 30.0,
        "identity_cloud_client_secret_changed": False,
        # Auth0's (test_sandbox_guardian.py)
        "auth0_client_secret_changed": False,
        "auth0_scopes": "create:guardian_enrollment_tickets",
        "auth0_token_lifetime_seconds": 86400,
        "guardian_sms_enabled": True,
        "guardian_sms_per_hour": 10,
        "guardian_code_ttl_seconds": 300.0,
        "guardian_transaction_ttl_seconds": 300.0,
    }
    assert (await client.get("/_sandbox/config")).json() == {
        "async_delay_seconds": 0.0,
        "token_lifetime_seconds": 3600,
        **identity_cloud,
    }
    changed = await client.post(
        "/_sandbox/config", json={"async_delay_seconds": 60, "token_lifetime_seconds": 90}
    )
    assert changed.json() == {
        "async_delay_seconds": 60.0,
        "token_lifetime_seconds": 90,
        **identity_cloud,
    }
    token = await request_token(client, assertion())
    assert token.json()["expires_in"] == 90
    auth = await bearer(client)
    created = await client.post("/processes/v1", json=create_body("00000000272"), headers=auth)
    pending = await client.get(f"/processes/v1/{created.json()['id']}", headers=auth)
    assert pending.json()["status"] == 1

    await client.post("/_sandbox/config", json={"async_delay_seconds": 0})
    created = await client.post("/processes/v1", json=create_body("00000000272"), headers=auth)
    final = await client.get(f"/processes/v1/{created.json()['id']}", headers=auth)
    assert final.json()["status"] == 3


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1]",
        b'{"async_delay_seconds": -1}',
        b'{"async_delay_seconds": "1"}',
        b'{"token_lifetime_seconds": 1.5}',
        b'{"token_lifetime_seconds": true}',
        b'{"webhook_url": "http://x"}',
    ],
)
async def test_config_refuses_bad_values(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/_sandbox/config", content=body)
    assert response.status_code == 400
    assert "error" in response.json()
    assert (await client.get("/_sandbox/config")).json()["async_delay_seconds"] == 0.0


async def test_one_log_line_per_request_without_personal_data(client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="sandbox")
    token = (await request_token(client, assertion())).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}", "APIKEY": "test-api-key"}
    created = await client.post("/processes/v1", json=create_body("00000000272"), headers=auth)
    await client.get(f"/processes/v1/{created.json()['id']}", headers=auth)
    await client.post("/processes/v1", json=create_body("12345678900"), headers=auth)

    lines = [r.getMessage() for r in caplog.records if r.name == "sandbox"]
    assert len(lines) == 4
    assert lines[1].startswith("POST /processes/v1 200")
    assert lines[2].startswith("GET /processes/v1/{processId} 200")
    assert "code=20507" in lines[3]
    for secret in ("00000000272", "12345678900", "Luke", token, created.json()["id"]):
        assert all(secret not in line for line in lines)


def _write_key(tmp_path: Path) -> Path:
    path = tmp_path / "public.pem"
    path.write_bytes(public_pem(private_key()))
    return path


def test_flags_win_over_environment(tmp_path: Path) -> None:
    key = _write_key(tmp_path)
    env = {
        "SANDBOX_PUBLIC_KEY_FILE": str(key),
        "SANDBOX_SERVICE_ACCOUNT": "env@t.iam.acesso.io",
        "SANDBOX_API_KEY": "env-key",
        "SANDBOX_ASYNC_DELAY_SECONDS": "1.5",
        "SANDBOX_TOKEN_LIFETIME_SECONDS": "60",
        "SANDBOX_WEBHOOK_URL": "http://127.0.0.1:8088/webhooks/unico",
    }
    config = load_config(["--api-key", "flag-key", "--port", "9000"], env)
    assert config.api_key == "flag-key"
    assert config.service_account == "env@t.iam.acesso.io"
    assert config.audience == "http://127.0.0.1:9000"  # defaults to the server's own address
    assert config.async_delay_seconds == 1.5
    assert config.token_lifetime_seconds == 60
    assert config.webhook_url == "http://127.0.0.1:8088/webhooks/unico"


def test_defaults(tmp_path: Path) -> None:
    flags = ["--public-key", str(_write_key(tmp_path)), "--service-account", ISS]
    config = load_config([*flags, "--api-key", "k", "--audience", "https://identity.test"], {})
    assert (config.host, config.port, config.audience) == (
        "127.0.0.1",
        8089,
        "https://identity.test",
    )
    assert (config.async_delay_seconds, config.token_lifetime_seconds) == (3.0, 3600)
    assert config.webhook_url is None


@pytest.mark.parametrize(
    "extra", [["--async-delay", "soon"], ["--token-lifetime", "-1"], ["--port", "70000"]]
)
def test_bad_numbers_are_config_errors(tmp_path: Path, extra: list[str]) -> None:
    flags = ["--public-key", str(_write_key(tmp_path)), "--service-account", ISS]
    with pytest.raises(ConfigError):
        load_config([*flags, "--api-key", "k", *extra], {})


@pytest.mark.parametrize("key", ["missing.pem", "not-a-key.pem", None])
def test_bad_public_key_exits_2_with_one_line(tmp_path, capsys, monkeypatch, key) -> None:
    monkeypatch.delenv("SANDBOX_PUBLIC_KEY_FILE", raising=False)
    (tmp_path / "not-a-key.pem").write_text("hello\n")
    flags = ["--public-key", str(tmp_path / key)] if key else []
    assert main([*flags, "--service-account", ISS, "--api-key", "k"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sandbox: ")


def test_python_m_sandbox_without_key_exits_2(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "sandbox", "--public-key", str(tmp_path / "none.pem")],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "", "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr


async def test_serves_over_real_http() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(make_config(port=port))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/_sandbox/health")).json() == {"ok": True}
            auth = await bearer(http)
            created = await http.post("/processes/v1", json=create_body(), headers=auth)
            assert created.json()["status"] == 3
    finally:
        server.should_exit = True
        await task
        sock.close()

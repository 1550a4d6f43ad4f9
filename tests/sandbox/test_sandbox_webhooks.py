"""The sandbox announces final async processes by webhook, at least once, like Unico."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.config import ConfigError, load_config
from sandbox.unico.webhooks import parse_header
from tests.sandbox.client import bearer, client_for, create_body, make_config
from tests.serving import serving

HEADER = "Authorization: Bearer webhook-secret"


@dataclass
class Receiver:
    """A webhook endpoint that answers a scripted list of statuses, then 200."""

    url: str = ""
    answers: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def receive(request: Request) -> JSONResponse:
            self.received.append((await request.json(), dict(request.headers)))
            status = self.answers.pop(0) if self.answers else 200
            return JSONResponse({}, status_code=status)

        return Starlette(routes=[Route("/hook", receive, methods=["POST"])])

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                await asyncio.sleep(0.02)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    async with serving(hook.app()) as url:
        hook.url = f"{url}/hook"
        yield hook


@pytest.fixture
async def sandbox(receiver: Receiver) -> AsyncIterator[httpx.AsyncClient]:
    config = make_config(async_delay_seconds=0.2, webhook_url=receiver.url, webhook_header=HEADER)
    async with client_for(config) as client:
        yield client


async def create(client: httpx.AsyncClient, cpf: str) -> str:
    auth = await bearer(client)
    response = await client.post("/processes/v1", json=create_body(cpf), headers=auth)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def report(client: httpx.AsyncClient) -> dict[str, Any]:
    return dict((await client.get("/_sandbox/webhooks")).json())


async def test_an_async_process_is_announced_once_it_is_final(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    process_id = await create(sandbox, "00000000353")
    await receiver.wait_for(1)
    payload, headers = receiver.received[0]
    assert payload == {"processId": process_id, "state": "finished", "flow": "idcloud-by-client"}
    assert headers["authorization"] == "Bearer webhook-secret"
    # By the time the webhook arrives, GET shows the final state.
    got = await sandbox.get(f"/processes/v1/{process_id}", headers=await bearer(sandbox))
    assert got.json()["status"] == 3
    delivery = (await report(sandbox))["deliveries"][0]
    assert delivery["process_id"] == process_id
    assert delivery["delivered_at"] >= delivery["final_at"]


@pytest.mark.parametrize(("cpf", "state"), [("00000001163", "canceled"), ("00000000868", "error")])
async def test_every_final_state_is_announced(
    sandbox: httpx.AsyncClient, receiver: Receiver, cpf: str, state: str
) -> None:
    await create(sandbox, cpf)
    await receiver.wait_for(1)
    assert receiver.received[0][0]["state"] == state


async def test_a_process_final_at_creation_is_not_announced(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    await create(sandbox, "12345678909")
    assert (await report(sandbox))["pending"] == 0, "no delivery was scheduled"


async def test_refusals_are_retried_until_accepted(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.answers = [503, 401]
    await create(sandbox, "00000000272")
    await receiver.wait_for(3)
    # The receiver has the third request a moment before the sender has read its answer.
    async with asyncio.timeout(5):
        while (stats := await report(sandbox))["delivered"] < 1:
            await asyncio.sleep(0.02)
    assert (stats["attempts"], stats["delivered"], stats["failed"]) == (3, 1, 0)


async def test_duplicates_deliver_the_same_notification_again(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    await sandbox.post("/_sandbox/webhooks", json={"duplicates": 2})
    await create(sandbox, "00000000272")
    await receiver.wait_for(3)
    assert len({str(payload) for payload, _ in receiver.received}) == 1


async def test_disabled_webhooks_send_nothing(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    answer = await sandbox.post("/_sandbox/webhooks", json={"enabled": False})
    assert answer.json()["enabled"] is False
    await create(sandbox, "00000000272")
    assert (await report(sandbox))["pending"] == 0, "no delivery was scheduled"


async def test_reset_cancels_pending_deliveries(
    sandbox: httpx.AsyncClient, receiver: Receiver
) -> None:
    await create(sandbox, "00000000272")
    assert (await report(sandbox))["pending"] == 1
    await sandbox.post("/_sandbox/reset")
    await asyncio.sleep(0.3)  # past the 0.2 s the delivery would have waited
    assert receiver.received == []


@pytest.mark.parametrize("body", [{"enabled": "yes"}, {"duplicates": -1}, {"other": 1}, [1]])
async def test_bad_webhook_settings_are_refused(sandbox: httpx.AsyncClient, body: Any) -> None:
    assert (await sandbox.post("/_sandbox/webhooks", json=body)).status_code == 400


def test_the_header_is_name_colon_value() -> None:
    assert parse_header("X-Api-Key: abc:def") == ("X-Api-Key", "abc:def")
    assert parse_header(None) is None
    with pytest.raises(ValueError):
        parse_header("no colon")


def test_a_bad_webhook_header_is_a_config_error(tmp_path: Any) -> None:
    key = tmp_path / "key.pem"
    key.write_bytes(make_config().public_key_pem)
    base = ["--public-key", str(key), "--service-account", "a@b", "--api-key", "k"]
    assert load_config([*base, "--webhook-header", HEADER], env={}).webhook_header == HEADER
    with pytest.raises(ConfigError):
        load_config([*base, "--webhook-header", "Authorization"], env={})

"""The sandbox's capture SDK and its create: a capture sealed by the sandbox, good for 10
minutes and one process; a spoof fails liveness whatever the CPF; an altered capture is no
valid file; and an API key that demands the SDK refuses a plain image."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.unico.cpf_scenarios import scenario_for
from tests.sandbox.client import bearer, create_body, selfie


@pytest.fixture
async def auth(client: httpx.AsyncClient) -> dict[str, str]:
    return await bearer(client)


async def capture(client: httpx.AsyncClient, **order: Any) -> str:
    response = await client.post("/_sandbox/captures", json={"image_base64": selfie(), **order})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["captured_at"].endswith("Z")
    sealed: str = body["capture"]
    return sealed


async def create(
    client: httpx.AsyncClient, auth: dict[str, str], image: str, cpf: str = "12345678909"
) -> httpx.Response:
    return await client.post(
        "/processes/v1", json=create_body(cpf, imageBase64=image), headers=auth
    )


def refused(response: httpx.Response, status: int, code: int) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_a_live_capture_gets_the_cpf_s_scenario_once(client, auth) -> None:
    sealed = await capture(client)
    assert sealed.count(".") == 2 and "=" not in sealed, "dot-joined base64url, like a JWT"
    first = await create(client, auth, sealed)
    assert first.status_code == 200, first.text
    assert {k: v for k, v in first.json().items() if k != "id"} == dict(
        scenario_for("12345678909").created
    )
    refused(await create(client, auth, sealed), 400, 10508)
    stats = (await client.get("/_sandbox/stats")).json()
    assert stats["processes_created"] == 1


async def test_a_spoof_fails_liveness_whatever_the_cpf(client, auth) -> None:
    response = await create(client, auth, await capture(client, liveness="spoof"))
    body = response.json()
    assert (body["status"], body["liveness"], body["unicoId"]) == (
        3, 2, {"result": "inconclusive"}
    )  # fmt: skip


async def test_a_capture_past_ten_minutes_is_10507(client, auth) -> None:
    refused(await create(client, auth, await capture(client, age_seconds=601)), 400, 10507)
    fresh = await create(client, auth, await capture(client, age_seconds=590))
    assert fresh.status_code == 200, "still within its 10 minutes"


@pytest.mark.parametrize(
    "alter",
    [
        lambda s: s[:-4] + ("AAAA" if not s.endswith("AAAA") else "BBBB"),  # the box
        lambda s: "e30" + s[s.index(".") :],  # another header: it is bound to the box
        lambda s: s + ".x",  # a fourth segment
        lambda s: s.replace(".", "", 1),  # a segment less
    ],
    ids=["box", "header", "extra-segment", "missing-segment"],
)
async def test_an_altered_capture_is_no_valid_file(client, auth, alter) -> None:
    refused(await create(client, auth, alter(await capture(client))), 400, 20900)


async def test_the_image_inside_gets_the_plain_image_s_checks(client, auth) -> None:
    small = await client.post("/_sandbox/captures", json={"image_base64": selfie(size=(320, 240))})
    refused(await create(client, auth, small.json()["capture"]), 400, 20807)


async def test_an_api_key_that_demands_the_sdk_refuses_a_plain_image(client, auth) -> None:
    configured = await client.post("/_sandbox/config", json={"unico_capture_required": True})
    assert configured.status_code == 200, configured.text
    refused(await create(client, auth, selfie()), 403, 10506)
    assert (await create(client, auth, await capture(client))).status_code == 200


@pytest.mark.parametrize(
    "order",
    [
        {},
        {"image_base64": ""},
        {"image_base64": "x", "liveness": "maybe"},
        {"image_base64": "x", "age_seconds": -1},
        {"image_base64": "x", "age_seconds": True},
        {"image_base64": "x", "extra": 1},
    ],
)
async def test_a_malformed_order_is_refused(client, order) -> None:
    response = await client.post("/_sandbox/captures", json=order)
    assert response.status_code == 400 and response.json()["error"]


async def test_a_reset_forgets_the_captures_used(client, auth) -> None:
    sealed = await capture(client)
    assert (await create(client, auth, sealed)).status_code == 200
    await client.post("/_sandbox/reset")
    auth = await bearer(client)
    assert (await create(client, auth, sealed)).status_code == 200

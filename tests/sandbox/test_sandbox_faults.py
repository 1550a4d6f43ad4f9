"""The sandbox's fault injection: rules that fail, slow down or drop calls to Unico's endpoints."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.sandbox.client import (
    assertion,
    bearer,
    create_body,
    request_token,
)


async def inject(client: httpx.AsyncClient, *rules: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/_sandbox/faults", json={"rules": list(rules)})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_rule_answers_its_code_for_its_number_of_calls(client: httpx.AsyncClient) -> None:
    auth = await bearer(client)
    await inject(client, {"endpoint": "create", "code": 10201, "times": 2})
    answers = [await client.post("/processes/v1", json=create_body(), headers=auth) for _ in "abc"]
    assert [a.status_code for a in answers] == [403, 403, 200]
    assert answers[0].json() == {
        "error": {"code": 10201, "description": "O AppKey informado é inválido."}
    }
    stats = (await client.get("/_sandbox/stats")).json()
    assert (stats["create_requests"], stats["processes_created"]) == (3, 1)
    assert stats["by_code"] == {"10201": 2}
    assert (await client.get("/_sandbox/faults")).json() == {"rules": [], "fired": {"create": 2}}


async def test_token_rules_speak_the_token_endpoints_envelope(client: httpx.AsyncClient) -> None:
    await inject(
        client, {"endpoint": "token", "code": "1.2.18"}, {"endpoint": "token", "status": 503}
    )
    locked = await request_token(client, assertion())
    assert (locked.status_code, locked.json()) == (
        401,
        {"error": "server_error", "error_description": "Falha na autenticação 1.2.18"},
    )
    unavailable = await request_token(client, assertion())
    assert unavailable.status_code == 503
    assert unavailable.json()["error_description"] == "Service Unavailable"
    assert (await request_token(client, assertion())).status_code == 200


async def test_rate_limit_answers_carry_retry_after(client: httpx.AsyncClient) -> None:
    auth = await bearer(client)
    await inject(client, {"endpoint": "get", "status": 429, "retry_after": 2})
    limited = await client.get("/processes/v1/some-id", headers=auth)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json() == {"error": {"description": "Too Many Requests"}}
    assert (await client.get("/processes/v1/some-id", headers=auth)).status_code == 404


async def test_an_unknown_code_answers_500_unless_a_status_is_given(
    client: httpx.AsyncClient,
) -> None:
    auth = await bearer(client)
    await inject(
        client,
        {"endpoint": "create", "code": 12345},
        {"endpoint": "create", "code": 99999, "status": 502},
    )
    first = await client.post("/processes/v1", json=create_body(), headers=auth)
    assert (first.status_code, first.json()["error"]["code"]) == (500, 12345)
    second = await client.post("/processes/v1", json=create_body(), headers=auth)
    assert (second.status_code, second.json()["error"]["code"]) == (502, 99999)


async def test_rules_until_removed_and_removal(client: httpx.AsyncClient) -> None:
    auth = await bearer(client)
    await inject(client, {"endpoint": "create", "code": 20002, "times": None})
    for _ in range(4):
        refused = await client.post("/processes/v1", json=create_body(), headers=auth)
        assert refused.json()["error"]["code"] == 20002
    assert (await client.delete("/_sandbox/faults")).json() == {"rules": [], "fired": {}}
    assert (await client.post("/processes/v1", json=create_body(), headers=auth)).status_code == 200


async def test_reset_removes_the_rules(client: httpx.AsyncClient) -> None:
    await inject(client, {"endpoint": "token", "status": 500, "times": None})
    await client.post("/_sandbox/reset")
    assert (await request_token(client, assertion())).status_code == 200


BAD_RULES = [
    {"endpoint": "delete"},
    {"endpoint": "create", "times": 0},
    {"endpoint": "create", "times": 1.5},
    {"endpoint": "create", "status": 200},
    {"endpoint": "create", "code": "1.2.18"},
    {"endpoint": "create", "code": [1]},
    {"endpoint": "create", "retry_after": -1},
    {"endpoint": "create", "delay_seconds": "3"},
    {"endpoint": "create", "drop_connection": "yes"},
    {"endpoint": "create", "drop_connection": True, "status": 500},
    {"endpoint": "create", "colour": "red"},
]


@pytest.mark.parametrize(
    "payload",
    [{"rules": [{"endpoint": "get"}, bad]} for bad in BAD_RULES]
    + [{"rules": {"endpoint": "create"}}, ["create"], "create"],
)
async def test_bad_rules_are_refused_whole(client: httpx.AsyncClient, payload: Any) -> None:
    response = await client.post("/_sandbox/faults", json=payload)
    assert response.status_code == 400
    assert "error" in response.json()
    assert (await client.get("/_sandbox/faults")).json()["rules"] == []

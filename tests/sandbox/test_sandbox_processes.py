"""The sandbox's process API: credentials, body and image checks, every scenario CPF."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from typing import Any

import httpx
import pytest

from sandbox.unico.cpf_scenarios import DEFAULT
from sandbox.unico.cpf_scenarios import SCENARIOS as CPF_SCENARIOS
from sandbox.unico.processes import ProcessStore
from tests.sandbox.client import (
    API_KEY,
    bearer,
    client_for,
    create_body,
    image_bytes,
    make_config,
    selfie,
)


@pytest.fixture
async def auth(client: httpx.AsyncClient) -> dict[str, str]:
    return await bearer(client)


def _error(response: httpx.Response, status: int, code: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["description"], str) and error["description"]


async def _call(client: httpx.AsyncClient, method: str, headers: dict[str, str]) -> httpx.Response:
    if method == "POST":
        return await client.post("/processes/v1", json=create_body(), headers=headers)
    return await client.get(f"/processes/v1/{uuid.uuid4()}", headers=headers)


def _without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != name}


CREDENTIALS = [
    # (case, headers from valid ones, HTTP status, code)
    ("no Authorization", lambda h: _without(h, "Authorization"), 401, 20001),
    ("empty Authorization", lambda h: {**h, "Authorization": ""}, 401, 20001),
    ("not Bearer", lambda h: {**h, "Authorization": "Basic dXNlcjpwdw=="}, 401, 30017),
    ("odd characters", lambda h: {**h, "Authorization": "Bearer a{b}c"}, 401, 30017),
    ("unknown token", lambda h: {**h, "Authorization": "Bearer nope"}, 401, 10501),
    ("no APIKEY", lambda h: _without(h, "APIKEY"), 400, 20002),
    ("wrong APIKEY", lambda h: {**h, "APIKEY": API_KEY + "x"}, 403, 10201),
]


@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize(
    ("change", "status", "code"), [c[1:] for c in CREDENTIALS], ids=[c[0] for c in CREDENTIALS]
)
async def test_credentials_are_checked_first(client, auth, method, change, status, code) -> None:
    _error(await _call(client, method, change(auth)), status, code)


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_expired_token_answers_10502(method: str) -> None:
    async with client_for(make_config(token_lifetime_seconds=0)) as client:
        _error(await _call(client, method, await bearer(client)), 401, 10502)


def _subject(**changes: Any) -> dict[str, Any]:
    subject = {"code": "12345678909", "name": "Luke Skywalker"}
    subject.update(changes)
    return {k: v for k, v in subject.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


PNG = image_bytes(fmt="PNG")

BODIES = [
    # (case, request body (dict is sent as JSON), code)
    ("empty body", b"", 20003),
    ("not JSON", b"{subject:", 20003),
    ("JSON array", b"[]", 20003),
    ("no subject", {"useCase": "Onboarding", "imageBase64": selfie()}, 20004),
    ("subject null", create_body(subject=None), 20004),
    ("subject a string", create_body(subject="12345678909"), 20004),
    ("no subject.code", create_body(subject=_subject(code=None)), 20005),
    ("empty subject.code", create_body(subject=_subject(code="")), 20005),
    ("no subject.name", create_body(subject=_subject(name=None)), 20006),
    ("blank subject.name", create_body(subject=_subject(name="  ")), 20006),
    ("no imageBase64", {"subject": _subject(), "useCase": "Onboarding"}, 20009),
    ("bad check digits", create_body("12345678900"), 20507),
    ("ten digits", create_body("1234567890"), 20507),
    ("formatted CPF", create_body("123.456.789-09"), 20507),
    ("repeated digits", create_body("11111111111"), 20507),
    ("numeric CPF", create_body(subject=_subject(code=12345678909)), 20507),
    ("not base64", create_body(imageBase64="%%% not base64 %%%"), 20900),
    ("SDK JWT", create_body(imageBase64="eyJhbGciOi.eyJzdWIi.c2ln"), 20900),
    ("base64 of text", create_body(imageBase64=_b64(b"hello, world")), 20900),
    ("truncated PNG", create_body(imageBase64=_b64(PNG[: len(PNG) // 2])), 20900),
    ("image a number", create_body(imageBase64=42), 20900),
    ("GIF", create_body(imageBase64=selfie(fmt="GIF")), 20505),
    ("BMP", create_body(imageBase64=selfie(fmt="BMP")), 20505),
    ("data URI", create_body(imageBase64="data:image/jpeg;base64," + selfie()), 20505),
    ("over 800 KB", create_body(imageBase64=selfie(fmt="PNG", noise=True)), 20506),
    ("320x240", create_body(imageBase64=selfie((320, 240))), 20807),
    ("640x479", create_body(imageBase64=selfie((640, 479))), 20807),
]


@pytest.mark.parametrize(("body", "code"), [b[1:] for b in BODIES], ids=[b[0] for b in BODIES])
async def test_invalid_create_requests_answer_400(client, auth, body, code) -> None:
    if isinstance(body, bytes):
        response = await client.post("/processes/v1", content=body, headers=auth)
    else:
        response = await client.post("/processes/v1", json=body, headers=auth)
    _error(response, 400, code)


@pytest.mark.parametrize(
    "image",
    [
        selfie(),
        selfie((480, 640)),  # portrait, as selfies usually are
        selfie(fmt="PNG"),
        selfie(fmt="WEBP"),
        "\n".join(selfie()[i : i + 76] for i in range(0, len(selfie()), 76)),  # MIME lines
    ],
    ids=["jpeg", "portrait", "png", "webp", "line-wrapped"],
)
async def test_accepted_images(client, auth, image) -> None:
    response = await client.post("/processes/v1", json=create_body(imageBase64=image), headers=auth)
    assert response.status_code == 200, response.text


async def test_a_body_past_the_cap_answers_20506() -> None:
    async with client_for(make_config(max_body_bytes=1024)) as client:
        response = await client.post(
            "/processes/v1", json=create_body(), headers=await bearer(client)
        )
    _error(response, 400, 20506)


# The stand-in's own table, and one valid CPF outside it (it behaves like 12345678909).
CASES = [
    *((cpf, scenario.created, scenario.later) for cpf, scenario in CPF_SCENARIOS.items()),
    ("52998224725", DEFAULT.created, DEFAULT.later),
]


def _get_status(view: Mapping[str, Any]) -> int:
    return 410 if view["status"] == 5 else 200  # a process in error is gone (seed 004)


async def _create(client: httpx.AsyncClient, auth: dict[str, str], cpf: str) -> dict[str, Any]:
    response = await client.post("/processes/v1", json=create_body(cpf), headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body: dict[str, Any] = response.json()
    assert uuid.UUID(body["id"])
    return body


@pytest.mark.parametrize(("cpf", "created", "later"), CASES)
async def test_scenario_once_the_delay_has_passed(client, auth, cpf, created, later):
    body = await _create(client, auth, cpf)
    assert body == {"id": body["id"], **created}
    final = later or created
    response = await client.get(f"/processes/v1/{body['id']}", headers=auth)
    assert response.status_code == _get_status(final)
    assert response.json() == {"id": body["id"], **final}


@pytest.mark.parametrize(("cpf", "created", "later"), CASES)
async def test_scenario_before_the_delay(cpf, created, later) -> None:
    async with client_for(make_config(async_delay_seconds=60)) as client:
        auth = await bearer(client)
        body = await _create(client, auth, cpf)
        response = await client.get(f"/processes/v1/{body['id']}", headers=auth)
    assert body == {"id": body["id"], **created}
    assert response.status_code == _get_status(created)
    assert response.json() == body


async def test_unknown_process_answers_404_50001(client, auth) -> None:
    _error(await client.get(f"/processes/v1/{uuid.uuid4()}", headers=auth), 404, 50001)


async def test_get_without_an_id_answers_20023(client, auth) -> None:
    _error(await client.get("/processes/v1", headers=auth), 400, 20023)


async def test_an_internal_failure_answers_500_99999(client, auth, monkeypatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(ProcessStore, "create", broken)
    response = await client.post("/processes/v1", json=create_body(), headers=auth)
    _error(response, 500, 99999)

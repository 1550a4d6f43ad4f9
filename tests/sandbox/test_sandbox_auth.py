"""The sandbox's token endpoint: every 1.x.x rule, success, reuse and lock-out."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import httpx
import jwt
import pytest

from sandbox.unico.auth import TokenEndpoint
from tests.sandbox.client import (
    AUD,
    GRANT,
    assertion,
    claims,
    client_for,
    make_config,
    private_key,
    request_token,
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _raw_jwt(header: object, payload: object) -> str:
    """A token with any header and payload, and a signature that no key made."""
    parts = (json.dumps(header).encode(), json.dumps(payload).encode(), b"signature")
    return ".".join(_b64(p) for p in parts)


def _signed(payload: object) -> str:
    """Signed with the right key, whatever the payload: pyjwt's encode checks claim types."""
    return jwt.PyJWS().encode(json.dumps(payload).encode(), private_key(), algorithm="RS256")


def _coded(code: str) -> dict[str, str]:
    return {"error": "server_error", "error_description": f"Falha na autenticação {code}"}


async def test_valid_assertion_gets_a_bearer_token(client: httpx.AsyncClient) -> None:
    response = await request_token(client, assertion())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert isinstance(body["access_token"], str) and len(body["access_token"]) >= 32


async def test_expires_in_follows_the_configured_lifetime() -> None:
    async with client_for(make_config(token_lifetime_seconds=120)) as client:
        response = await request_token(client, assertion())
    assert response.json()["expires_in"] == 120


NOW = int(time.time())
RS256 = {"alg": "RS256", "typ": "JWT"}

REFUSED = [
    # (case, assertion factory, code)
    ("not a JWT", lambda: "not-a-jwt", "1.2.20"),
    ("header not JSON", lambda: "bm90IGpzb24.e30.c2ln", "1.2.20"),
    ("HS256", lambda: jwt.encode(claims(), "k" * 32, algorithm="HS256"), "1.2.20"),
    ("alg none", lambda: _raw_jwt({"alg": "none"}, claims()), "1.2.20"),
    ("payload not an object", lambda: _raw_jwt(RS256, [1, 2]), "1.2.20"),
    ("iat a string", lambda: assertion(iat="yesterday"), "1.2.21"),
    ("aud a list", lambda: assertion(aud=[AUD]), "1.2.21"),
    ("iss a number", lambda: _signed(claims(iss=42)), "1.2.21"),
    ("exp a boolean", lambda: _signed(claims(exp=True)), "1.2.21"),
    ("signed payload not an object", lambda: _signed("hello"), "1.2.20"),
    ("exp missing", lambda: assertion(exp=None), "1.2.21"),
    ("signed by another key", lambda: assertion(private_key("other")), "1.2.5"),
    ("signature garbage", lambda: _raw_jwt(RS256, claims()), "1.2.5"),
    ("sub", lambda: assertion(sub="someone@else"), "1.2.19"),
    ("jti", lambda: assertion(jti="abc"), "1.2.22"),
    ("nbf", lambda: assertion(nbf=NOW), "1.2.22"),
    ("scope missing", lambda: assertion(scope=None), "1.1.1"),
    ("scope not *", lambda: assertion(scope="openid"), "1.1.1"),
    ("iss another account", lambda: assertion(iss="other@tenant.iam.acesso.io"), "1.0.1"),
    ("iss missing", lambda: assertion(iss=None), "1.0.1"),
    ("aud wrong", lambda: assertion(aud="https://identity.acesso.io"), "1.2.5"),
    ("aud trailing slash", lambda: assertion(aud=AUD + "/"), "1.2.5"),
    ("aud missing", lambda: assertion(aud=None), "1.2.5"),
    ("expired", lambda: assertion(iat=NOW - 600, exp=NOW - 1), "1.2.4"),
    ("lives over an hour", lambda: assertion(iat=NOW, exp=NOW + 3601), "1.2.4"),
    ("exp before iat", lambda: assertion(iat=NOW + 60, exp=NOW + 30), "1.2.4"),
]


@pytest.mark.parametrize(("factory", "code"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
async def test_refused_assertions_answer_their_code(client, factory, code) -> None:
    response = await request_token(client, factory())
    assert response.status_code == 401
    assert response.json() == _coded(code)


async def test_an_hour_long_assertion_is_accepted(client: httpx.AsyncClient) -> None:
    response = await request_token(client, assertion(iat=NOW, exp=NOW + 3600))
    assert response.status_code == 200


async def test_reused_assertion_answers_1_2_7(client: httpx.AsyncClient) -> None:
    once = assertion()
    assert (await request_token(client, once)).status_code == 200
    again = await request_token(client, once)
    assert again.status_code == 401
    assert again.json() == _coded("1.2.7")
    assert (await request_token(client, assertion(iat=NOW - 1))).status_code == 200


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"grant_type": "client_credentials", "assertion": "x"}, "unsupported_grant_type"),
        ({"assertion": "x"}, "unsupported_grant_type"),
        ({"grant_type": GRANT}, "invalid_request"),
        ({"grant_type": GRANT, "assertion": ""}, "invalid_request"),
    ],
)
async def test_malformed_grant_answers_400(client, data, error) -> None:
    response = await client.post("/oauth2/token", data=data)
    assert response.status_code == 400
    assert response.json()["error"] == error


async def test_json_body_is_not_a_grant(client: httpx.AsyncClient) -> None:
    response = await client.post("/oauth2/token", json={"grant_type": GRANT, "assertion": "x"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


async def _fail(client: httpx.AsyncClient, times: int) -> None:
    for _ in range(times):
        assert (await request_token(client, assertion(aud="wrong"))).json() == _coded("1.2.5")


async def test_five_invalid_assertions_lock_the_account() -> None:
    async with client_for(make_config(lockout_seconds=0.3)) as client:
        await _fail(client, 5)
        locked = await request_token(client, assertion())
        assert locked.status_code == 401
        assert locked.json() == _coded("1.2.18")
        await asyncio.sleep(0.35)
        assert (await request_token(client, assertion())).status_code == 200


async def test_a_success_resets_the_failure_count(client: httpx.AsyncClient) -> None:
    await _fail(client, 4)
    assert (await request_token(client, assertion())).status_code == 200
    await _fail(client, 4)
    assert (await request_token(client, assertion(iat=NOW - 1))).status_code == 200


async def test_other_accounts_cannot_lock_the_configured_one(client: httpx.AsyncClient) -> None:
    for _ in range(6):
        response = await request_token(client, assertion(iss="intruder@x.iam.acesso.io"))
        assert response.json() == _coded("1.0.1")
    assert (await request_token(client, assertion())).status_code == 200


async def test_an_internal_failure_answers_500(client, monkeypatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(TokenEndpoint, "exchange", broken)
    response = await request_token(client, assertion())
    assert response.status_code == 500
    assert response.json()["error"] == "server_error"

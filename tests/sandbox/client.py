"""Helpers shared by the sandbox tests: keys, assertions, selfies, an in-process client,
Identity Cloud calls, and Auth0 Guardian's enrollment calls."""

from __future__ import annotations

import base64
import functools
import io
import itertools
import json
import os
import time
from dataclasses import replace
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from PIL import Image

from sandbox.app import create_app
from sandbox.config import SandboxConfig

ISS = "onboarding@tenant-123.iam.acesso.io"
AUD = "http://sandbox.test"
API_KEY = "test-api-key"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@functools.cache
def private_key(name: str = "service-account") -> rsa.RSAPrivateKey:
    """One key pair per name for the whole run: generating RSA keys is the slow part."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def make_config(**overrides: Any) -> SandboxConfig:
    base = SandboxConfig(
        public_key_pem=public_pem(private_key()),
        service_account=ISS,
        api_key=API_KEY,
        audience=AUD,
        async_delay_seconds=0.0,
    )
    return replace(base, **overrides)


def client_for(config: SandboxConfig) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(config))
    return httpx.AsyncClient(transport=transport, base_url=AUD)


_calls = itertools.count()


def claims(**changes: Any) -> dict[str, Any]:
    """Valid claims; a change of None removes the claim.

    RS256 signatures are deterministic, so two assertions signed in the same second would be
    equal (and the second a reuse, 1.2.7): each call steps `iat` back a second.
    """
    now = int(time.time())
    iat = now - next(_calls) % 1000
    base: dict[str, Any] = {"iss": ISS, "aud": AUD, "scope": "*", "iat": iat, "exp": now + 300}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def assertion(key: rsa.RSAPrivateKey | None = None, **changes: Any) -> str:
    return jwt.encode(claims(**changes), key or private_key(), algorithm="RS256")


async def request_token(client: httpx.AsyncClient, token_assertion: str) -> httpx.Response:
    return await client.post(
        "/oauth2/token", data={"grant_type": GRANT, "assertion": token_assertion}
    )


async def bearer(client: httpx.AsyncClient) -> dict[str, str]:
    """Headers of an authorized process call, with a fresh token."""
    response = await request_token(client, assertion())
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}", "APIKEY": API_KEY}


def image_bytes(
    size: tuple[int, int] = (640, 480), fmt: str = "JPEG", noise: bool = False
) -> bytes:
    if noise:  # random pixels do not compress: the way to a large file
        img = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        img = Image.new("RGB", size, (180, 140, 120))
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


@functools.cache
def selfie(size: tuple[int, int] = (640, 480), fmt: str = "JPEG", noise: bool = False) -> str:
    return base64.b64encode(image_bytes(size, fmt, noise)).decode()


def create_body(cpf: str = "12345678909", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": {"code": cpf, "name": "Luke Skywalker", "email": "luke@example.com"},
        "useCase": "Onboarding",
        "imageBase64": selfie(),
    }
    body.update(changes)
    return body


# Identity Cloud's entity API: its prefix, the default client, and calls in its form.
IDENTITY_CLOUD = "/identity-cloud"
IC_CLIENT_ID, IC_SECRET = "onboarding-sandbox", "sandbox-secret"
SEEDED_CPF, SEEDED_EMAIL = "11144477735", "ana.existing@example.com"


def basic(client_id: str = IC_CLIENT_ID, secret: str = IC_SECRET) -> dict[str, str]:
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def user(cpf: str = "52998224725", **changes: Any) -> dict[str, Any]:
    """Attributes of a new `user`; a change of None leaves the attribute out."""
    base: dict[str, Any] = {
        "cpf": cpf,
        "email": f"user.{cpf}@example.com",
        "displayName": "Leia Organa",
        "givenName": "Leia",
        "familyName": "Organa",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


async def entity_call(
    client: httpx.AsyncClient,
    operation: str,
    fields: dict[str, str],
    headers: dict[str, str] | None = None,
    method: str = "POST",
) -> httpx.Response:
    """One entity API call with the default client's Basic credentials unless told."""
    url = f"{IDENTITY_CLOUD}/{operation}"
    headers = basic() if headers is None else headers
    if method == "GET":
        return await client.get(url, params=fields, headers=headers)
    return await client.post(url, data=fields, headers=headers)


async def create_user(
    client: httpx.AsyncClient, attributes: dict[str, Any], **fields: str
) -> dict[str, Any]:
    """Create a `user`; the success body."""
    body = {"type_name": "user", "attributes": json.dumps(attributes), **fields}
    response = await entity_call(client, "entity.create", body)
    assert response.status_code == 200, response.text
    answer = dict(response.json())
    assert answer["stat"] == "ok", answer
    return answer


async def records(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return list((await client.get("/_sandbox/identity-cloud/records")).json()["records"])


# Auth0's tenant and Guardian: their prefixes, the default client, and the enrollment calls.
AUTH0, GUARDIAN = "/auth0", "/guardian"
AUTH0_CLIENT_ID, AUTH0_SECRET = "sandbox-auth0-client", "sandbox-auth0-secret"
PHONE = "+5511987654321"  # delivers: not one of the test phones


def management_audience(client: httpx.AsyncClient) -> str:
    """The tenant's Management API, as the client reaches the tenant."""
    return f"{str(client.base_url).rstrip('/')}{AUTH0}/api/v2/"


def token_request(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    """A valid client-credentials grant; a change of None removes the field."""
    base: dict[str, Any] = {
        "grant_type": "client_credentials",
        "client_id": AUTH0_CLIENT_ID,
        "client_secret": AUTH0_SECRET,
        "audience": management_audience(client),
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


async def management_token(client: httpx.AsyncClient, **changes: Any) -> str:
    response = await client.post(f"{AUTH0}/oauth/token", json=token_request(client, **changes))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def create_ticket(
    client: httpx.AsyncClient, user_id: str = "auth0|leia", token: str | None = None
) -> str:
    """A fresh enrollment ticket for `user_id`; its id."""
    token = token or await management_token(client)
    response = await client.post(
        f"{AUTH0}/api/v2/guardian/enrollments/ticket",
        json={"user_id": user_id},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["ticket_id"])


async def start_flow(client: httpx.AsyncClient, ticket_id: str, body: Any = None) -> httpx.Response:
    return await client.post(
        f"{GUARDIAN}/api/start-flow",
        json={"state_transport": "polling"} if body is None else body,
        headers={"Authorization": f'Ticket id="{ticket_id}"'},
    )


async def open_transaction(
    client: httpx.AsyncClient, user_id: str = "auth0|leia"
) -> dict[str, Any]:
    """start-flow's answer for a fresh ticket of a user not yet enrolled."""
    response = await start_flow(client, await create_ticket(client, user_id))
    assert response.status_code == 201, response.text
    return dict(response.json())


def transaction_auth(transaction: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {transaction['transaction_token']}"}


async def send_sms(
    client: httpx.AsyncClient, transaction: dict[str, Any], phone: str | None = PHONE
) -> httpx.Response:
    device = transaction["device_account"]["id"]
    return await client.post(
        f"{GUARDIAN}/api/device-accounts/{device}/sms-enroll",
        json={} if phone is None else {"phone_number": phone},
        headers=transaction_auth(transaction),
    )


async def verify(
    client: httpx.AsyncClient, transaction: dict[str, Any], code: str
) -> httpx.Response:
    return await client.post(
        f"{GUARDIAN}/api/verify-otp",
        json={"type": "manual_input", "code": code},
        headers=transaction_auth(transaction),
    )


async def sms_inbox(client: httpx.AsyncClient, phone: str | None = None) -> list[dict[str, Any]]:
    params = {} if phone is None else {"phone": phone}
    response = await client.get("/_sandbox/guardian/sms", params=params)
    return list(response.json()["messages"])


async def last_code(client: httpx.AsyncClient, phone: str = PHONE) -> str:
    return str((await sms_inbox(client, phone))[-1]["code"])


async def guardian_enrollments(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return list((await client.get("/_sandbox/guardian/enrollments")).json()["enrollments"])


async def configure(client: httpx.AsyncClient, **settings: Any) -> dict[str, Any]:
    response = await client.post("/_sandbox/config", json=settings)
    assert response.status_code == 200, response.text
    return dict(response.json())

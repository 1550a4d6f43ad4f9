"""The Auth0 stand-in's login for people: OpenID Connect's authorization code flow with
PKCE, as the reviewers' console meets it: the discovery document, the login page, the
callback's code, the token exchange and an ID token that verifies against the JWKS."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from sandbox.config import SandboxConfig
from sandbox.guardian.login import ROLES_CLAIM
from tests.sandbox.client import AUD

TENANT = f"{AUD}/auth0/"
CONSOLE_CLIENT_ID = SandboxConfig.console_client_id
CONSOLE_CLIENT_SECRET = SandboxConfig.console_client_secret
CALLBACK = "http://127.0.0.1:8090/auth/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(challenge: str, **changes: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": CONSOLE_CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": "openid profile email",
        "state": "state-1",
        "nonce": "nonce-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return params


async def sign_in(
    client: httpx.AsyncClient, params: dict[str, str], username: str, password: str
) -> httpx.Response:
    page = await client.get("/auth0/authorize", params=params)
    assert page.status_code == 200
    hidden = dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', page.text))
    assert hidden == params, "the form carries the authorize request"
    form = {**hidden, "username": username, "password": password}
    return await client.post("/auth0/authorize", data=form)


def code_of(answer: httpx.Response) -> str:
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["state-1"]
    return query["code"][0]


async def exchange(client: httpx.AsyncClient, code: str, verifier: str, **changes: Any) -> Any:
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": CONSOLE_CLIENT_ID,
        "client_secret": CONSOLE_CLIENT_SECRET,
        "code_verifier": verifier,
    }
    fields.update(changes)
    return await client.post("/auth0/oauth/token", data={k: v for k, v in fields.items() if v})


async def id_claims(client: httpx.AsyncClient, id_token: str) -> dict[str, Any]:
    jwks = (await client.get("/auth0/.well-known/jwks.json")).json()
    [key] = jwks["keys"]
    assert jwt.get_unverified_header(id_token)["kid"] == key["kid"]
    claims: dict[str, Any] = jwt.decode(
        id_token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience=CONSOLE_CLIENT_ID,
        issuer=TENANT,
    )
    return claims


async def test_the_discovery_document_names_the_tenant_s_endpoints(
    client: httpx.AsyncClient,
) -> None:
    found = (await client.get("/auth0/.well-known/openid-configuration")).json()
    assert found["issuer"] == TENANT
    assert found["authorization_endpoint"] == f"{TENANT}authorize"
    assert found["token_endpoint"] == f"{TENANT}oauth/token"
    assert found["jwks_uri"] == f"{TENANT}.well-known/jwks.json"
    assert "S256" in found["code_challenge_methods_supported"]


@pytest.mark.parametrize(
    ("username", "password", "roles"),
    [
        ("ana@reviewers.example", "ana-dev-password", ["reviewer"]),
        ("bruno@reviewers.example", "bruno-dev-password", ["senior_reviewer"]),
        ("carla@support.example", "carla-dev-password", []),
    ],
)
async def test_a_person_logs_in_and_the_id_token_names_them_and_their_roles(
    client: httpx.AsyncClient, username: str, password: str, roles: list[str]
) -> None:
    verifier, challenge = pkce()
    code = code_of(await sign_in(client, authorize_params(challenge), username, password))
    tokens = await exchange(client, code, verifier)
    assert tokens.status_code == 200, tokens.text
    claims = await id_claims(client, tokens.json()["id_token"])
    assert (claims["email"], claims["nonce"], claims[ROLES_CLAIM]) == (username, "nonce-1", roles)
    assert claims["sub"].startswith("auth0|")


async def test_a_wrong_password_shows_the_form_again(client: httpx.AsyncClient) -> None:
    _, challenge = pkce()
    answer = await sign_in(client, authorize_params(challenge), "ana@reviewers.example", "nope")
    assert answer.status_code == 401
    assert "Wrong email or password." in answer.text and 'name="password"' in answer.text


async def test_a_code_is_good_once_and_only_with_its_verifier_and_callback(
    client: httpx.AsyncClient,
) -> None:
    verifier, challenge = pkce()
    params = authorize_params(challenge)
    code = code_of(await sign_in(client, params, "ana@reviewers.example", "ana-dev-password"))
    wrong_verifier = await exchange(client, code, pkce()[0])
    assert (wrong_verifier.status_code, wrong_verifier.json()["error"]) == (400, "invalid_grant")
    # A refused exchange spends the code, as a code is single-use whatever happens.
    again = await exchange(client, code, verifier)
    assert again.json()["error"] == "invalid_grant"
    code = code_of(await sign_in(client, params, "ana@reviewers.example", "ana-dev-password"))
    elsewhere = await exchange(client, code, verifier, redirect_uri="http://127.0.0.1:1/cb")
    assert elsewhere.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid redirect_uri",
    }


async def test_a_public_client_must_use_pkce(client: httpx.AsyncClient) -> None:
    params = authorize_params("")
    del params["code_challenge"], params["code_challenge_method"]
    code = code_of(await sign_in(client, params, "ana@reviewers.example", "ana-dev-password"))
    answer = await exchange(client, code, "", client_secret="")
    assert answer.json()["error"] == "invalid_request"


async def test_a_wrong_client_secret_is_refused(client: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    code = code_of(
        await sign_in(
            client, authorize_params(challenge), "ana@reviewers.example", "ana-dev-password"
        )
    )
    answer = await exchange(client, code, verifier, client_secret="guess")
    assert (answer.status_code, answer.json()["error"]) == (401, "access_denied")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"client_id": "someone-else"}, "Unknown client"),
        ({"redirect_uri": "https://attacker.example/cb"}, "Callback URL mismatch"),
        ({"response_type": "token"}, "response_type"),
        ({"scope": "profile"}, "openid"),
    ],
)
async def test_a_bad_authorize_request_never_redirects(
    client: httpx.AsyncClient, change: dict[str, str], words: str
) -> None:
    params = authorize_params(pkce()[1], **change)
    page = await client.get("/auth0/authorize", params=params)
    assert page.status_code == 400 and words in page.text
    posted = await client.post(
        "/auth0/authorize",
        data={**params, "username": "ana@reviewers.example", "password": "ana-dev-password"},
    )
    assert posted.status_code == 400 and "location" not in posted.headers


async def test_logout_returns_to_a_loopback_page_only(client: httpx.AsyncClient) -> None:
    back = await client.get(
        "/auth0/oidc/logout", params={"post_logout_redirect_uri": "http://127.0.0.1:8090/"}
    )
    assert (back.status_code, back.headers["location"]) == (302, "http://127.0.0.1:8090/")
    away = await client.get(
        "/auth0/oidc/logout", params={"post_logout_redirect_uri": "https://attacker.example/"}
    )
    assert away.status_code == 200 and "location" not in away.headers

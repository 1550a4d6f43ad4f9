"""The tenant's login for people: OpenID Connect's authorization code flow with PKCE.

What a web application (the reviewers' console) meets at an Auth0 tenant:

- `GET /authorize` checks the client and its callback before anything else (a wrong one
  gets an error page, never a redirect: an attacker's callback must not receive the code),
  then shows the universal login's form (`username`, `password`); the form posts back to
  `/authorize` with the request's parameters. A right password redirects to the callback
  with `code` and `state`; a wrong one shows the form again, 401, "Wrong email or password."
- `POST /oauth/token` with `grant_type=authorization_code`: the code (single use, 60 s, as
  Auth0's), the same `redirect_uri`, the client (its secret, or none for a public client)
  and the PKCE `code_verifier` whose S256 digest the authorize request carried. It answers
  an opaque access token and an RS256 ID token: `iss` (the tenant's URL, ending in `/`),
  `aud` (the client id), `sub`, `email`, `name`, `nonce`, `iat`, `exp`, and the person's
  roles under the namespaced claim `ROLES_CLAIM`, as an Auth0 Action adds them.
- the discovery document and the JWKS that verifies the ID token; the key is made when the
  sandbox first needs it, so a token of an earlier run fails its signature.

Callbacks: this dev tenant allows any `http` callback on a loopback host (127.0.0.1,
localhost), as a tenant's "Allowed Callback URLs" would list the local console's.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import html
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.guardian.errors import AuthError

ROLES_CLAIM = "https://onboarding.example/roles"
CODE_SECONDS = 60.0
ID_TOKEN_SECONDS = 36000  # Auth0's default ID token lifetime: 10 hours
_AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


@dataclass(frozen=True)
class Person:
    sub: str
    email: str
    name: str
    password: str
    roles: tuple[str, ...]


PEOPLE: tuple[Person, ...] = (
    Person("auth0|ana", "ana@reviewers.example", "Ana Souza", "ana-dev-password", ("reviewer",)),
    Person(
        "auth0|bruno",
        "bruno@reviewers.example",
        "Bruno Lima",
        "bruno-dev-password",
        ("senior_reviewer",),
    ),
    Person("auth0|carla", "carla@support.example", "Carla Dias", "carla-dev-password", ()),
)


@dataclass(frozen=True)
class _Grant:
    """What a code stands for until it is exchanged."""

    person: Person
    client_id: str
    redirect_uri: str
    nonce: str | None
    challenge: str | None
    method: str
    scope: str
    expires_at: float


class LoginError(Exception):
    """A request the tenant will not redirect back for: shown as an error page."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


class Login:
    """The tenant's people, their codes and the key that signs their ID tokens."""

    def __init__(self, clients: Mapping[str, str], people: tuple[Person, ...] = PEOPLE) -> None:
        self._people = {person.email: person for person in people}
        self._clients = dict(clients)  # client id: secret
        self._kid = secrets.token_hex(8)
        self._grants: dict[str, _Grant] = {}

    @functools.cached_property
    def _key(self) -> rsa.RSAPrivateKey:
        # Made at the first login, not with every app: tests make many apps.
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    # --- /authorize ---------------------------------------------------------------------

    @staticmethod
    def allowed_callback(url: str) -> bool:
        """An `http` URL on a loopback host: this dev tenant's Allowed Callback URLs."""
        parts = urlsplit(url)
        return parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}

    def checked_request(self, params: Mapping[str, str]) -> dict[str, str]:
        """The authorize request's parameters, refused (`LoginError`) before any redirect."""
        client_id = params.get("client_id", "")
        if client_id not in self._clients:
            raise LoginError("Unknown client: the application is not registered.")
        redirect_uri = params.get("redirect_uri", "")
        if not self.allowed_callback(redirect_uri):
            raise LoginError(
                "Callback URL mismatch: the redirect_uri is not in the application's "
                "Allowed Callback URLs."
            )
        if params.get("response_type") != "code":
            raise LoginError("Unsupported response_type: this tenant answers code.")
        if "openid" not in params.get("scope", "").split():
            raise LoginError("The scope must include openid.")
        method = params.get("code_challenge_method", "plain")
        if params.get("code_challenge") and method not in ("S256", "plain"):
            raise LoginError("Unsupported code_challenge_method: S256 or plain.")
        return {name: params[name] for name in _AUTHORIZE_PARAMS if params.get(name)}

    def sign_in(self, request: Mapping[str, str], username: str, password: str) -> str | None:
        """The callback URL with a new code and the state, or None for a wrong password."""
        person = self._people.get(username.strip().lower())
        given = password.encode()
        if person is None or not hmac.compare_digest(given, person.password.encode()):
            return None
        self._forget_expired()
        code = secrets.token_urlsafe(24)
        self._grants[code] = _Grant(
            person=person,
            client_id=request["client_id"],
            redirect_uri=request["redirect_uri"],
            nonce=request.get("nonce"),
            challenge=request.get("code_challenge"),
            method=request.get("code_challenge_method", "plain"),
            scope=request.get("scope", "openid"),
            expires_at=time.time() + CODE_SECONDS,
        )
        answer = {"code": code}
        if "state" in request:
            answer["state"] = request["state"]
        separator = "&" if urlsplit(request["redirect_uri"]).query else "?"
        return f"{request['redirect_uri']}{separator}{urlencode(answer)}"

    # --- /oauth/token -------------------------------------------------------------------

    def exchange(
        self, fields: Mapping[str, Any], client_auth: tuple[str, str] | None, issuer: str
    ) -> dict[str, Any]:
        """The authorization code grant: tokens for a code, once; `client_auth` is the
        Basic header's client, when it came that way."""
        client_id, client_secret = client_auth or (
            str(fields.get("client_id") or ""),
            fields.get("client_secret"),
        )
        if client_id not in self._clients:
            raise AuthError("access_denied", "Unauthorized")
        if client_secret is not None and not hmac.compare_digest(
            str(client_secret).encode(), self._clients[client_id].encode()
        ):
            raise AuthError("access_denied", "Unauthorized")
        code = fields.get("code")
        grant = self._grants.pop(code, None) if isinstance(code, str) else None
        if grant is None or grant.expires_at < time.time() or grant.client_id != client_id:
            raise AuthError("invalid_grant", "Invalid authorization code")
        if fields.get("redirect_uri") != grant.redirect_uri:
            raise AuthError("invalid_grant", "Invalid redirect_uri")
        if client_secret is None and grant.challenge is None:
            raise AuthError("invalid_request", "A public client must use PKCE")
        if grant.challenge is not None and not _verifier_matches(
            fields.get("code_verifier"), grant.challenge, grant.method
        ):
            raise AuthError("invalid_grant", "Failed to verify code verifier")
        return {
            "access_token": secrets.token_urlsafe(32),
            "id_token": self._id_token(grant, issuer),
            "scope": grant.scope,
            "expires_in": 86400,
            "token_type": "Bearer",
        }

    def _id_token(self, grant: _Grant, issuer: str) -> str:
        now = int(time.time())
        person = grant.person
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": grant.client_id,
            "sub": person.sub,
            "email": person.email,
            "email_verified": True,
            "name": person.name,
            "iat": now,
            "exp": now + ID_TOKEN_SECONDS,
            ROLES_CLAIM: list(person.roles),
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._kid})

    def _forget_expired(self) -> None:
        now = time.time()
        for code in [c for c, g in self._grants.items() if g.expires_at < now]:
            del self._grants[code]

    # --- discovery ----------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        numbers = self._key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "alg": "RS256",
                    "kid": self._kid,
                    "n": _b64_uint(numbers.n),
                    "e": _b64_uint(numbers.e),
                }
            ]
        }


def discovery(issuer: str) -> dict[str, Any]:
    """The discovery document; `issuer` is the tenant's URL, ending in `/`."""
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}authorize",
        "token_endpoint": f"{issuer}oauth/token",
        "jwks_uri": f"{issuer}.well-known/jwks.json",
        "end_session_endpoint": f"{issuer}oidc/logout",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "code_challenge_methods_supported": ["S256", "plain"],
        "claims_supported": ["aud", "email", "exp", "iat", "iss", "name", "nonce", "sub"],
    }


def login_page(request: Mapping[str, str], error: str | None = None) -> str:
    """The universal login's form; the authorize request rides along in hidden fields."""
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
        for name, value in request.items()
    )
    alert = f'<p role="alert">{html.escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in | Sandbox tenant</title></head>
<body><main>
<h1>Log in</h1>
<p>to continue to the onboarding console</p>
{alert}
<form method="post" action="authorize">
{hidden}
<label for="username">Email address</label>
<input id="username" name="username" type="email" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Continue</button>
</form>
</main></body></html>
"""


def error_page(message: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Error | Sandbox tenant</title></head>
<body><main><h1>Something went wrong</h1><p role="alert">{html.escape(message)}</p></main>
</body></html>
"""


def _verifier_matches(verifier: object, challenge: str, method: str) -> bool:
    if not isinstance(verifier, str) or not 43 <= len(verifier) <= 128:
        return False
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        derived = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    else:
        derived = verifier
    return hmac.compare_digest(derived.encode(), challenge.encode())


def _b64_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

"""The token endpoint: verify a service account's RS256 assertion and issue a bearer token.

The rules and codes follow seeds 000/001 and Unico's published token rules. Checks run in the
order a real server can make them: decode, find the account by `iss` (and its lock-out),
verify the signature, then the claims. Only failures for the configured account count
towards the lock-out, so an unknown `iss` cannot lock it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping
from enum import Enum
from typing import Any

import jwt

from sandbox.config import Runtime, SandboxConfig, load_public_key

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLAIMS = frozenset({"iss", "aud", "scope", "iat", "exp"})
MAX_ASSERTION_LIFETIME = 3600


class TokenError(Exception):
    """An answer of the token endpoint other than a token."""

    def __init__(self, status_code: int, body: Mapping[str, str], code: str) -> None:
        super().__init__(code)
        self.status_code, self.body, self.code = status_code, body, code

    @classmethod
    def coded(cls, code: str, status_code: int = 401) -> TokenError:
        """Unico's shape: the x.x.x code ends error_description (seed 000)."""
        body = {"error": "server_error", "error_description": f"Falha na autenticação {code}"}
        return cls(status_code, body, code)

    @classmethod
    def bad_request(cls, error: str, description: str) -> TokenError:
        """A request that is not a JWT bearer grant at all: RFC 6749 section 5.2 errors."""
        return cls(400, {"error": error, "error_description": description}, error)


class TokenState(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class TokenStore:
    """Issued bearer tokens and when they expire (monotonic clock)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def issue(self, lifetime_seconds: int) -> str:
        token = secrets.token_urlsafe(32)
        self._expiry[token] = self._clock() + lifetime_seconds
        return token

    def state(self, token: str) -> TokenState:
        expiry = self._expiry.get(token)
        if expiry is None:
            return TokenState.UNKNOWN
        return TokenState.VALID if self._clock() < expiry else TokenState.EXPIRED

    def clear(self) -> None:
        self._expiry.clear()


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _decode_unverified(assertion: str) -> dict[str, Any]:
    """Header and payload without the signature: 1.2.20 when it is no RS256 JWT."""
    try:
        parts = jwt.PyJWS().decode_complete(assertion, options={"verify_signature": False})
        claims = json.loads(parts["payload"])
    except (jwt.InvalidTokenError, ValueError, RecursionError):
        raise TokenError.coded("1.2.20") from None
    if parts["header"].get("alg") != "RS256" or not isinstance(claims, dict):
        raise TokenError.coded("1.2.20")
    return claims


def _check_types(claims: Mapping[str, Any]) -> None:
    strings = all(isinstance(claims.get(k, ""), str) for k in ("iss", "aud", "scope"))
    numbers = all(_is_number(claims[k]) for k in ("iat", "exp") if k in claims)
    if not (strings and numbers):
        raise TokenError.coded("1.2.21")


class TokenEndpoint:
    """`POST /oauth2/token` for the one configured service account."""

    def __init__(
        self,
        config: SandboxConfig,
        runtime: Runtime,
        tokens: TokenStore,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._config, self._runtime, self._tokens = config, runtime, tokens
        self._key = load_public_key(config.public_key_pem)
        self._clock, self._wall_clock = clock, wall_clock
        self._used: dict[str, float] = {}  # sha256 of accepted assertions -> their exp
        self._failures = 0
        self._locked_until: float | None = None

    def reset(self) -> None:
        self._used.clear()
        self._failures, self._locked_until = 0, None

    def exchange(self, grant_type: str | None, assertion: str | None) -> dict[str, Any]:
        if grant_type != GRANT_TYPE:
            raise TokenError.bad_request(
                "unsupported_grant_type", f"grant_type must be {GRANT_TYPE}"
            )
        if not assertion:
            raise TokenError.bad_request("invalid_request", "assertion is missing")
        claims = _decode_unverified(assertion)
        _check_types(claims)
        if claims.get("iss") != self._config.service_account:
            raise TokenError.coded("1.0.1")
        self._check_lock()
        digest = hashlib.sha256(assertion.encode()).hexdigest()
        try:
            self._verify(assertion, claims, digest)
        except TokenError:
            self._count_failure()
            raise
        self._failures = 0
        self._remember(digest, float(claims["exp"]))
        lifetime = self._runtime.token_lifetime_seconds
        token = self._tokens.issue(lifetime)
        return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime}

    def _verify(self, assertion: str, claims: Mapping[str, Any], digest: str) -> None:
        try:
            jwt.PyJWS().decode_complete(assertion, self._key, algorithms=["RS256"])
        except jwt.InvalidTokenError:
            raise TokenError.coded("1.2.5") from None
        if "sub" in claims:
            raise TokenError.coded("1.2.19")
        if set(claims) - CLAIMS:
            raise TokenError.coded("1.2.22")
        if claims.get("scope") != "*":
            raise TokenError.coded("1.1.1")
        if claims.get("aud") != self._config.audience:
            raise TokenError.coded("1.2.5")
        if "iat" not in claims or "exp" not in claims:
            raise TokenError.coded("1.2.21")
        iat, exp = claims["iat"], claims["exp"]
        if exp <= self._wall_clock() or exp <= iat or exp - iat > MAX_ASSERTION_LIFETIME:
            raise TokenError.coded("1.2.4")
        if digest in self._used:
            raise TokenError.coded("1.2.7")

    def _check_lock(self) -> None:
        if self._locked_until is None:
            return
        if self._clock() < self._locked_until:
            raise TokenError.coded("1.2.18")
        self._failures, self._locked_until = 0, None  # the lock has run out: start afresh

    def _count_failure(self) -> None:
        self._failures += 1
        if self._failures >= self._config.lockout_threshold:
            self._locked_until = self._clock() + self._config.lockout_seconds

    def _remember(self, digest: str, exp: float) -> None:
        # An expired assertion fails with 1.2.4 before reuse is checked: forget those.
        now = self._wall_clock()
        self._used = {d: e for d, e in self._used.items() if e > now}
        self._used[digest] = exp

"""The sandbox's configuration: command-line flags, each with an environment fallback.

Precedence is flag, then environment, then default. Errors become `ConfigError` with a
one-line message, so that `python -m sandbox` can exit 2 without a traceback.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from sandbox.unico.webhooks import parse_header

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8089


class ConfigError(Exception):
    """A configuration problem, told in one line."""


@dataclass(frozen=True)
class SandboxConfig:
    public_key_pem: bytes
    service_account: str
    api_key: str
    audience: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    async_delay_seconds: float = 3.0
    token_lifetime_seconds: int = 3600
    webhook_url: str | None = None  # where final async processes are announced
    webhook_header: str | None = None  # "Name: value", the auth header sent with each webhook
    lockout_threshold: int = 5  # consecutive invalid assertions before 1.2.18
    lockout_seconds: float = 60.0
    max_body_bytes: int = 8 * 1024 * 1024  # a larger body cannot hold an 800 KB image
    tenant_rate_limit: float = 0.0  # process-API requests a second per tenant; 0: no limit
    tenant_rate_burst: float | None = None  # requests banked beyond the rate; None: one second's
    identity_cloud_client_id: str = "onboarding-sandbox"
    identity_cloud_client_secret: str = "sandbox-secret"
    identity_cloud_find_lag_seconds: float = 30.0  # before entity.find sees a new record
    identity_cloud_rate_limit: float = 0.0  # entity API requests a second; 0: no limit
    auth0_client_id: str = "sandbox-auth0-client"  # the Management API client
    auth0_client_secret: str = "sandbox-auth0-secret"
    console_client_id: str = "onboarding-console"  # the web application people log in to
    console_client_secret: str = "sandbox-console-secret"

    @property
    def rate_burst(self) -> float:
        """The stated burst: as given, or one second's worth of requests (at least one)."""
        if self.tenant_rate_burst is not None:
            return max(1.0, self.tenant_rate_burst)
        return max(1.0, math.ceil(self.tenant_rate_limit))

    @property
    def identity_cloud_rate_burst(self) -> float:
        """One second's worth of entity API requests (at least one)."""
        return max(1.0, math.ceil(self.identity_cloud_rate_limit))


@dataclass
class Runtime:
    """The settings that `POST /_sandbox/config` may change while the server runs."""

    async_delay_seconds: float
    token_lifetime_seconds: int
    identity_cloud_client_secret: str  # rotated at run time: the old one then gets 402
    identity_cloud_find_lag_seconds: float
    auth0_client_secret: str  # rotated at run time: the old one then gets 401
    auth0_scopes: str = "create:guardian_enrollment_tickets"  # granted, space-separated
    auth0_token_lifetime_seconds: int = 86400
    guardian_sms_enabled: bool = True  # false: start-flow and sms-enroll are feature_disabled
    guardian_sms_per_hour: int = 10  # per user, rolling hour (Auth0's published limit)
    guardian_code_ttl_seconds: float = 300.0  # an SMS code's life (Auth0: 5 minutes)
    guardian_transaction_ttl_seconds: float = 300.0  # an enrollment transaction's life
    # An API key that demands the SDK: a plain image (no capture) answers 10506.
    unico_capture_required: bool = False

    @classmethod
    def from_config(cls, config: SandboxConfig) -> Runtime:
        return cls(
            async_delay_seconds=config.async_delay_seconds,
            token_lifetime_seconds=config.token_lifetime_seconds,
            identity_cloud_client_secret=config.identity_cloud_client_secret,
            identity_cloud_find_lag_seconds=config.identity_cloud_find_lag_seconds,
            auth0_client_secret=config.auth0_client_secret,
        )


def load_public_key(pem: bytes) -> RSAPublicKey:
    """Parse the service account's public key; only RSA can verify RS256."""
    try:
        key = load_pem_public_key(pem)
    except ValueError as exc:
        raise ConfigError(f"public key is not a PEM public key ({exc})") from None
    if not isinstance(key, RSAPublicKey):
        raise ConfigError("public key is not an RSA key")
    return key


def _parser() -> argparse.ArgumentParser:
    # No argparse defaults: a missing flag falls back to the environment in load_config.
    p = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Local Unico, Identity Cloud and Auth0 Guardian stand-ins",
    )
    p.add_argument("--host", help="bind address (SANDBOX_HOST, default 127.0.0.1)")
    p.add_argument("--port", help="bind port (SANDBOX_PORT, default 8089)")
    p.add_argument("--public-key", help="PEM public key file (SANDBOX_PUBLIC_KEY_FILE)")
    p.add_argument("--service-account", help="expected assertion iss (SANDBOX_SERVICE_ACCOUNT)")
    p.add_argument("--api-key", help="expected APIKEY header (SANDBOX_API_KEY)")
    p.add_argument("--audience", help="expected assertion aud (SANDBOX_AUDIENCE)")
    p.add_argument("--async-delay", help="seconds (SANDBOX_ASYNC_DELAY_SECONDS)")
    p.add_argument("--token-lifetime", help="seconds (SANDBOX_TOKEN_LIFETIME_SECONDS)")
    p.add_argument("--webhook-url", help="webhook target (SANDBOX_WEBHOOK_URL)")
    p.add_argument(
        "--webhook-header", help="'Name: value' auth header to send (SANDBOX_WEBHOOK_HEADER)"
    )
    p.add_argument(
        "--tenant-rate-limit",
        help="process-API requests/s per tenant, 429 beyond (SANDBOX_TENANT_RATE_LIMIT, 0: off)",
    )
    p.add_argument(
        "--tenant-rate-burst",
        help="requests banked beyond the rate (SANDBOX_TENANT_RATE_BURST, default: one second's)",
    )
    p.add_argument(
        "--identity-cloud-client-id",
        help="entity API client id (SANDBOX_IDENTITY_CLOUD_CLIENT_ID, default onboarding-sandbox)",
    )
    p.add_argument(
        "--identity-cloud-client-secret",
        help="its secret (SANDBOX_IDENTITY_CLOUD_CLIENT_SECRET, default sandbox-secret)",
    )
    p.add_argument(
        "--identity-cloud-find-lag",
        help="seconds before entity.find sees a new record"
        " (SANDBOX_IDENTITY_CLOUD_FIND_LAG_SECONDS, default 30)",
    )
    p.add_argument(
        "--identity-cloud-rate-limit",
        help="entity API requests/s, 510 beyond (SANDBOX_IDENTITY_CLOUD_RATE_LIMIT, 0: off)",
    )
    p.add_argument(
        "--auth0-client-id",
        help="Management API client id (SANDBOX_AUTH0_CLIENT_ID, default sandbox-auth0-client)",
    )
    p.add_argument(
        "--auth0-client-secret",
        help="its secret (SANDBOX_AUTH0_CLIENT_SECRET, default sandbox-auth0-secret)",
    )
    p.add_argument(
        "--console-client-id",
        help="the login's web application (SANDBOX_CONSOLE_CLIENT_ID, default onboarding-console)",
    )
    p.add_argument(
        "--console-client-secret",
        help="its secret (SANDBOX_CONSOLE_CLIENT_SECRET, default sandbox-console-secret)",
    )
    return p


def _pick(flag: object, env: Mapping[str, str], name: str) -> str | None:
    if flag is not None:
        return str(flag)
    value = env.get(name, "").strip()
    return value or None


def _number(text: str | None, name: str, default: float, kind: type[float] | type[int]) -> float:
    if text is None:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be a finite, non-negative number, got {text!r}")
    return value


def load_config(argv: Sequence[str] | None, env: Mapping[str, str] | None = None) -> SandboxConfig:
    env = os.environ if env is None else env
    args = _parser().parse_args(argv)
    key_file = _pick(args.public_key, env, "SANDBOX_PUBLIC_KEY_FILE")
    if key_file is None:
        raise ConfigError("no public key: pass --public-key or set SANDBOX_PUBLIC_KEY_FILE")
    try:
        with open(key_file, "rb") as f:
            pem = f.read()
    except OSError as exc:
        raise ConfigError(f"cannot read public key {key_file}: {exc.strerror}") from None
    load_public_key(pem)  # fail at start, not at the first token request

    account = _pick(args.service_account, env, "SANDBOX_SERVICE_ACCOUNT")
    api_key = _pick(args.api_key, env, "SANDBOX_API_KEY")
    if account is None:
        raise ConfigError("no service account: pass --service-account or SANDBOX_SERVICE_ACCOUNT")
    if api_key is None:
        raise ConfigError("no API key: pass --api-key or set SANDBOX_API_KEY")

    host = _pick(args.host, env, "SANDBOX_HOST") or DEFAULT_HOST
    port = int(_number(_pick(args.port, env, "SANDBOX_PORT"), "port", DEFAULT_PORT, int))
    if port > 65535:
        raise ConfigError(f"port must be at most 65535, got {port}")
    audience = _pick(args.audience, env, "SANDBOX_AUDIENCE") or f"http://{host}:{port}"
    delay_text = _pick(args.async_delay, env, "SANDBOX_ASYNC_DELAY_SECONDS")
    lifetime_text = _pick(args.token_lifetime, env, "SANDBOX_TOKEN_LIFETIME_SECONDS")
    rate, burst = _rate_limit(args, env)
    return SandboxConfig(
        public_key_pem=pem,
        service_account=account,
        api_key=api_key,
        audience=audience,
        host=host,
        port=port,
        async_delay_seconds=_number(delay_text, "async delay", 3.0, float),
        token_lifetime_seconds=int(_number(lifetime_text, "token lifetime", 3600, int)),
        webhook_url=_pick(args.webhook_url, env, "SANDBOX_WEBHOOK_URL"),
        webhook_header=_webhook_header(_pick(args.webhook_header, env, "SANDBOX_WEBHOOK_HEADER")),
        tenant_rate_limit=rate,
        tenant_rate_burst=burst,
        **_identity_cloud(args, env),
        **_auth0(args, env),
    )


def _rate_limit(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[float, float | None]:
    """The tenant's rate limit on the process API and its burst."""
    rate = _pick(args.tenant_rate_limit, env, "SANDBOX_TENANT_RATE_LIMIT")
    burst = _pick(args.tenant_rate_burst, env, "SANDBOX_TENANT_RATE_BURST")
    return (
        _number(rate, "tenant rate limit", 0.0, float),
        None if burst is None else _number(burst, "tenant rate burst", 1.0, float),
    )


def _identity_cloud(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, Any]:
    """The entity API's client credentials, its find lag and its rate limit."""
    lag = _pick(args.identity_cloud_find_lag, env, "SANDBOX_IDENTITY_CLOUD_FIND_LAG_SECONDS")
    rate = _pick(args.identity_cloud_rate_limit, env, "SANDBOX_IDENTITY_CLOUD_RATE_LIMIT")
    client_id = _pick(args.identity_cloud_client_id, env, "SANDBOX_IDENTITY_CLOUD_CLIENT_ID")
    secret = _pick(args.identity_cloud_client_secret, env, "SANDBOX_IDENTITY_CLOUD_CLIENT_SECRET")
    return {
        "identity_cloud_client_id": client_id or "onboarding-sandbox",
        "identity_cloud_client_secret": secret or "sandbox-secret",
        "identity_cloud_find_lag_seconds": _number(lag, "identity cloud find lag", 30.0, float),
        "identity_cloud_rate_limit": _number(rate, "identity cloud rate limit", 0.0, float),
    }


def _auth0(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, Any]:
    """The Management API client's credentials."""
    client_id = _pick(args.auth0_client_id, env, "SANDBOX_AUTH0_CLIENT_ID")
    secret = _pick(args.auth0_client_secret, env, "SANDBOX_AUTH0_CLIENT_SECRET")
    console_id = _pick(args.console_client_id, env, "SANDBOX_CONSOLE_CLIENT_ID")
    console_secret = _pick(args.console_client_secret, env, "SANDBOX_CONSOLE_CLIENT_SECRET")
    return {
        "auth0_client_id": client_id or "sandbox-auth0-client",
        "auth0_client_secret": secret or "sandbox-auth0-secret",
        "console_client_id": console_id or "onboarding-console",
        "console_client_secret": console_secret or "sandbox-console-secret",
    }


def _webhook_header(text: str | None) -> str | None:
    try:
        parse_header(text)
    except ValueError as exc:
        raise ConfigError(f"webhook header: {exc}") from None
    return text

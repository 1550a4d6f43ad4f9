"""Configuration from the environment: the one place that reads it.

Every setting is an environment variable (the field name upper-cased). `onboarding dev`
fills in the local stack's values; a production deployment sets them explicitly and the
worker refuses to start, in one line, when one it needs is missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from activities.identity_cloud.mapping import DEFAULT_MAPPING, AttributeMapping, MappingError
from workflows.names import TASK_QUEUE

UAT_AUTH_URL = "https://identityhomolog.acesso.io"
UAT_API_URL = "https://api.id.uat.unico.app"
BIND_ADDRESS = r"^[^\s:]+:\d{1,5}$"  # host:port, as Prometheus and the probes bind


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    # Temporal: where and how to connect is read as Temporal's own tools read it, from a
    # profile and the TEMPORAL_* variables (onboarding/temporal/connection.py).
    task_queue: str = TASK_QUEUE
    graceful_shutdown_seconds: float = 30.0

    # The journey: what a request that does not say gets
    review_by_default: bool = Field(
        default=False, description="a `review` decision waits for a reviewer (options.review)"
    )

    # Unico: service account and API key (from Unico's onboarding team)
    unico_auth_url: str = UAT_AUTH_URL
    unico_api_url: str = UAT_API_URL
    unico_audience: str | None = Field(
        default=None, description="JWT `aud`; defaults to the token host (no trailing slash)"
    )
    unico_service_account: str | None = Field(
        default=None, description="JWT `iss`: <service-account-name>@<tenant-id>.iam.acesso.io"
    )
    unico_private_key_file: Path | None = None
    unico_private_key: SecretStr | None = Field(
        default=None, description="the PEM itself, from a secret variable, instead of the file"
    )
    unico_api_key: str | None = None

    # Identity Cloud: the account step (options.account.register)
    identity_cloud_url: str | None = Field(
        default=None, description="the entity API's base: https://<domain>.janraincapture.com"
    )
    identity_cloud_client_id: str | None = Field(
        default=None, description="an API client with the `owner` (or `direct_access`) feature"
    )
    identity_cloud_client_secret: SecretStr | None = None
    identity_cloud_client_secret_file: Path | None = Field(
        default=None, description="the secret, read again whenever the file changes (rotation)"
    )
    identity_cloud_entity_type: str = "user"
    identity_cloud_attributes: str = Field(
        default=json.dumps(DEFAULT_MAPPING, separators=(",", ":")),
        description="JSON: our facts (cpf, name, email, phone, request_id) -> attribute paths",
    )
    identity_cloud_timeout_seconds: float = Field(default=10.0, gt=0)
    identity_cloud_requests_per_second: float = Field(
        default=5.0, gt=0, description="the whole fleet's ceiling on entity API calls"
    )

    # Auth0 and Guardian: the MFA step (options.mfa.enroll)
    auth0_tenant_url: str | None = Field(
        default=None, description="the tenant's base, for the token and tickets: https://<tenant>"
    )
    auth0_client_id: str | None = Field(
        default=None,
        description="a machine-to-machine app allowed create:guardian_enrollment_tickets",
    )
    auth0_client_secret: SecretStr | None = None
    auth0_client_secret_file: Path | None = Field(
        default=None, description="the secret, read again whenever the file changes (rotation)"
    )
    guardian_url: str | None = Field(
        default=None, description="Guardian's base: https://<tenant>.guardian.auth0.com"
    )
    guardian_user_id_template: str = Field(
        default="auth0|{uuid}",
        description="the Auth0 user id from the registered account's uuid, when the request "
        "gives none",
    )
    guardian_timeout_seconds: float = Field(default=10.0, gt=0)
    guardian_requests_per_second: float = Field(
        default=5.0, gt=0, description="the whole fleet's ceiling on Auth0 and Guardian calls"
    )

    # HTTP behaviour towards Unico
    unico_connect_timeout_seconds: float = 5.0
    unico_read_timeout_seconds: float = 30.0
    unico_max_connections: int = 50
    token_safety_margin_seconds: float = 300.0

    # Selfie store (claim check): the image never enters a Temporal payload
    selfie_dir: Path = Path(".state/selfies")
    selfie_store: Literal["local", "s3"] = "local"
    selfie_s3_bucket: str | None = None
    selfie_s3_prefix: str = "selfies/"
    selfie_s3_endpoint_url: str | None = None
    selfie_s3_region: str | None = None
    selfie_retention_seconds: float = Field(
        default=0, ge=0, le=366 * 24 * 3600, description="0: deleted when the onboarding ends"
    )

    # Payload encryption (onboarding/codec.py): "id:base64key" entries, the first is current
    onboarding_encryption_keys: SecretStr | None = None
    onboarding_encryption_keys_file: Path | None = None
    onboarding_encryption_key_id: str | None = None

    # Codec server for the Web UI and the CLI (gateway /codec/encode, /codec/decode)
    codec_auth_token: SecretStr | None = None
    codec_cors_origins: str = Field(default="", description="comma-separated, e.g. the UI's")
    codec_dev_trusted_origins: str = Field(
        default="", description="dev only: the codec from these origins needs no token"
    )

    log_level: str = "INFO"

    # Gateway
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8088
    gateway_url: str = "http://127.0.0.1:8088"
    gateway_api_token: SecretStr | None = Field(
        default=None, description="the bearer token every selfie upload must carry"
    )
    gateway_routes: str = Field(
        default="selfies,webhook,codec",
        pattern=r"^\s*(selfies|webhook|codec)(\s*,\s*(selfies|webhook|codec))*\s*$",
        description="the routes this gateway serves (health is always served)",
    )

    # Unico's webhook to the gateway, authenticated as agreed with Unico's team
    # (`onboarding.gateway.webhook_auth` checks that the chosen scheme has its credentials)
    webhook_auth: Literal["off", "none", "basic", "api-key", "bearer"] = "off"
    webhook_username: str | None = None
    webhook_password: SecretStr | None = None
    webhook_api_key_header: str = "X-API-Key"
    webhook_api_key: SecretStr | None = None
    webhook_bearer_token: SecretStr | None = None
    webhook_retry_after_seconds: int = Field(default=5, ge=1)

    # Local state of `onboarding dev`
    state_dir: Path = Path(".state")

    # Operations: the fleet's Unico budget, probes, metrics and traces
    unico_requests_per_second: float = Field(
        default=5.0,
        gt=0,
        description="the whole fleet's ceiling on process-API calls, kept under Unico's limit",
    )
    health_bind_address: str | None = Field(default=None, pattern=BIND_ADDRESS)
    metrics_bind_address: str | None = Field(default=None, pattern=BIND_ADDRESS)
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "onboarding"

    @property
    def gateway_route_names(self) -> frozenset[str]:
        return frozenset(name.strip() for name in self.gateway_routes.split(","))

    @property
    def audience(self) -> str:
        if self.unico_audience:
            return self.unico_audience
        parts = urlsplit(self.unico_auth_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def token_url(self) -> str:
        return self.unico_auth_url.rstrip("/") + "/oauth2/token"

    def require_unico_credentials(self) -> None:
        """Fail fast, in words, before the worker polls for any task."""
        missing = [
            name.upper()
            for name in ("unico_service_account", "unico_api_key")
            if getattr(self, name) in (None, "")
        ]
        if self.unico_private_key is None and self.unico_private_key_file is None:
            missing.append("UNICO_PRIVATE_KEY_FILE (or UNICO_PRIVATE_KEY)")
        if missing:
            raise SettingsError(f"missing setting(s): {', '.join(missing)}")
        key_file = self.unico_private_key_file
        if self.unico_private_key is None and key_file is not None and not key_file.is_file():
            raise SettingsError(f"UNICO_PRIVATE_KEY_FILE: no such file: {key_file}")


def identity_cloud_mapping(settings: Settings) -> AttributeMapping:
    try:
        return AttributeMapping.parse(settings.identity_cloud_attributes)
    except MappingError as exc:
        raise SettingsError(str(exc)) from None


def identity_cloud_configured(settings: Settings) -> bool:
    """Whether the account step can run; half a configuration is refused at start."""
    secret = settings.identity_cloud_client_secret or settings.identity_cloud_client_secret_file
    given = {
        "IDENTITY_CLOUD_URL": settings.identity_cloud_url,
        "IDENTITY_CLOUD_CLIENT_ID": settings.identity_cloud_client_id,
        "IDENTITY_CLOUD_CLIENT_SECRET (or _FILE)": secret,
    }
    configured = _all_or_nothing("Identity Cloud", given)
    identity_cloud_mapping(settings)  # a wrong mapping fails at start, not at the first call
    return configured


def guardian_configured(settings: Settings) -> bool:
    """Whether the MFA step can run; half a configuration is refused at start."""
    secret = settings.auth0_client_secret or settings.auth0_client_secret_file
    given = {
        "AUTH0_TENANT_URL": settings.auth0_tenant_url,
        "AUTH0_CLIENT_ID": settings.auth0_client_id,
        "AUTH0_CLIENT_SECRET (or _FILE)": secret,
        "GUARDIAN_URL": settings.guardian_url,
    }
    configured = _all_or_nothing("Guardian", given)
    if "{uuid}" not in settings.guardian_user_id_template:
        raise SettingsError("GUARDIAN_USER_ID_TEMPLATE must contain {uuid}")
    return configured


def _all_or_nothing(system: str, given: Mapping[str, object]) -> bool:
    """Whether every setting is given; some but not all is refused, naming the missing."""
    missing = [name for name, value in given.items() if not value]
    if missing and len(missing) < len(given):
        raise SettingsError(f"{system} half configured: missing {', '.join(missing)}")
    return not missing


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]).upper()
        raise SettingsError(f"{field}: {first['msg']}") from None

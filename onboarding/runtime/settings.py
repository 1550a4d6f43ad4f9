"""Configuration from the environment: the one place that reads it.

Every setting is an environment variable (the field name upper-cased). `onboarding dev`
fills in the local stack's values; a production deployment sets them explicitly and the
worker refuses to start, in one line, when one it needs is missing. Each remote system reads
its own settings (`activities.SYSTEMS`), and the selfie store its own (`SELFIE_*`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from activities import SYSTEMS
from activities.selfies import SelfieBackend, SelfieSettings, open_store
from onboarding.runtime.console_settings import ConsoleSettings
from onboarding.runtime.errors import SettingsError
from onboarding_client.contract.names import DEPLOYMENT_NAME, TASK_QUEUE

BIND_ADDRESS = r"^[^\s:]+:\d{1,5}$"  # host:port, as Prometheus and the probes bind


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    # Temporal: where and how to connect is read as Temporal's own tools read it, from a
    # profile and the TEMPORAL_* variables (onboarding/temporal/connection.py).
    task_queue: str = TASK_QUEUE
    graceful_shutdown_seconds: float = 30.0
    # The replicas that share each remote system's budget: every worker keeps to its share
    # on its own, which evens the calls out where the server's limit lets bursts through.
    worker_replicas: int = Field(default=1, ge=1)
    # Worker Deployment Versioning: the deployment every build of ours belongs to, and this
    # build's id (one per release: the image and `onboarding dev` give their own). The
    # variables are the ones Temporal's worker controller sets.
    temporal_deployment_name: str = DEPLOYMENT_NAME
    temporal_worker_build_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9._+-]{1,255}$", description="required by the worker"
    )

    # The journey: what a request that does not say gets
    review_by_default: bool = Field(
        default=False, description="a `review` decision waits for a reviewer (options.review)"
    )

    # Payload encryption (onboarding_client/codec.py): "id:base64key" entries, the first is current
    onboarding_encryption_keys: SecretStr | None = None
    onboarding_encryption_keys_file: Path | None = None
    onboarding_encryption_key_id: str | None = None

    # Codec server for the Web UI and the CLI (gateway /codec/encode, /codec/decode)
    codec_auth_token: SecretStr | None = None
    codec_cors_origins: str = Field(default="", description="comma-separated, e.g. the UI's")
    codec_dev_trusted_origins: str = Field(
        default="", description="dev only: the codec from these origins needs no token"
    )
    # Calling services' tokens: "name:token" entries, by commas or lines; each seals, and
    # opens only the answers meant for callers (onboarding/gateway/caller_scope.py)
    codec_caller_tokens: SecretStr | None = None
    codec_caller_tokens_file: Path | None = None

    # The reviewers' console's public keys: a review answer must carry its proof of a
    # verified reviewer (contracts/review_proof.py); several keys during a rotation
    review_signer_keys: str = Field(
        default="", description="`kid:base64url-key` entries, by commas or lines"
    )
    review_signer_keys_file: Path | None = None

    log_level: str = "INFO"

    # Gateway
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8088
    gateway_url: str = "http://127.0.0.1:8088"
    gateway_api_token: SecretStr | None = Field(
        default=None, description="the bearer token every selfie upload must carry"
    )
    gateway_api_token_file: Path | None = None
    # Each upload in flight holds its image (up to 10 MB) in memory; more are answered 503.
    gateway_max_concurrent_uploads: int = Field(
        default=4, ge=1, description="selfie uploads in flight at once"
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

    # Operations: probes, metrics and traces
    health_bind_address: str | None = Field(default=None, pattern=BIND_ADDRESS)
    metrics_bind_address: str | None = Field(default=None, pattern=BIND_ADDRESS)
    otel_exporter_otlp_endpoint: str | None = None
    otel_service_name: str = "onboarding"

    @property
    def gateway_route_names(self) -> frozenset[str]:
        return frozenset(name.strip() for name in self.gateway_routes.split(","))


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]).upper()
        raise SettingsError(f"{field}: {first['msg']}") from None


def selfie_store() -> SelfieBackend:
    """The selfie store the `SELFIE_*` settings name (the gateway's and the workers')."""
    return open_store(read_settings(SelfieSettings, os.environ))


@dataclass(frozen=True)
class Setting:
    """One environment variable the product reads, the model that reads it, and its field."""

    variable: str
    model: type[BaseSettings]
    field: str

    @property
    def info(self) -> FieldInfo:
        return self.model.model_fields[self.field]


def variables_of(model: type[BaseSettings]) -> dict[str, str]:
    """The environment variable of each field of a settings model (its prefix, or alias)."""
    prefix = str(model.model_config.get("env_prefix") or "")
    found = {}
    for name, info in model.model_fields.items():
        alias = info.validation_alias
        found[name] = alias if isinstance(alias, str) else f"{prefix}{name}".upper()
    return found


M = TypeVar("M", bound=BaseSettings)


def settings_from(model: type[M], environment: Mapping[str, str]) -> M:
    """A settings model read from `environment` rather than this process's own."""
    given = {}
    for name, variable in variables_of(model).items():
        if variable in environment:
            alias = model.model_fields[name].validation_alias
            given[alias if isinstance(alias, str) else name] = environment[variable]
    return model.model_validate(given)


def read_settings(model: type[M], environment: Mapping[str, str]) -> M:
    """`settings_from`, or `SettingsError` in one line naming the variable."""
    try:
        return settings_from(model, environment)
    except ValidationError as exc:
        first = exc.errors()[0]
        variables = variables_of(model)
        where = variables.get(str(first["loc"][0]), "") if first["loc"] else ""
        raise SettingsError(f"{where or model.__name__}: {first['msg']}") from None


def every_setting() -> dict[str, Setting]:
    """Every variable a process of ours reads: the shell's, the selfie store's, and each
    remote system's, by name."""
    found: dict[str, Setting] = {}
    models: list[type[BaseSettings]] = [Settings, SelfieSettings, ConsoleSettings]
    models += [system.settings for system in SYSTEMS]
    for model in models:
        for name, variable in variables_of(model).items():
            found[variable] = Setting(variable, model, name)
    return found

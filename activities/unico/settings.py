"""Unico's settings: the service account, the API key, the hosts, and the fleet's budget.

Every variable starts with `UNICO_`. The service account (its name and its private key)
and the API key come from Unico's onboarding team; the worker refuses to start without
them, in one line naming what is missing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from activities.system import SystemSettings, SystemSettingsError

logger = logging.getLogger("activities.unico")

UAT_AUTH_URL = "https://identityhomolog.acesso.io"
UAT_API_URL = "https://api.id.uat.unico.app"


class UnicoSettings(SystemSettings):
    model_config = SettingsConfigDict(env_prefix="UNICO_", extra="ignore", frozen=True)

    auth_url: str = UAT_AUTH_URL
    api_url: str = UAT_API_URL
    audience: str | None = Field(
        default=None, description="JWT `aud`; defaults to the token host (no trailing slash)"
    )
    service_account: str | None = Field(
        default=None, description="JWT `iss`: <service-account-name>@<tenant-id>.iam.acesso.io"
    )
    private_key_file: Path | None = None
    private_key: SecretStr | None = Field(
        default=None, description="the PEM itself, from a secret variable, instead of the file"
    )
    api_key: str | None = None
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    read_timeout_seconds: float = Field(default=30.0, gt=0)
    max_connections: int = Field(default=50, ge=1)
    token_safety_margin_seconds: float = Field(
        default=300.0, ge=0, description="a cached token this close to its expiry is renewed"
    )
    capture_required: bool = Field(
        default=False,
        description="liveness always: a plain image is refused (10506) before any call",
    )
    # Unico's team configured the webhook to the gateway: its call ends the wait for a
    # process, and polling is only the safety net of a lost one (docs/operations.md).
    webhooks: bool = Field(
        default=False, description="Unico's webhook is configured: reads wait for it first"
    )
    webhook_first_read_seconds: float = Field(
        default=120.0,
        gt=0,
        description="with webhooks on, the first read of a process that is not final, unless "
        "the webhook comes before: the bound on a lost webhook's delay",
    )

    @property
    def token_audience(self) -> str:
        if self.audience:
            return self.audience
        parts = urlsplit(self.auth_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def token_url(self) -> str:
        return self.auth_url.rstrip("/") + "/oauth2/token"

    def check(self) -> bool:
        """Unico is not optional: fail fast, in words, before the worker polls for a task."""
        missing = [
            f"UNICO_{name.upper()}"
            for name in ("service_account", "api_key")
            if getattr(self, name) in (None, "")
        ]
        if self.private_key is None and self.private_key_file is None:
            missing.append("UNICO_PRIVATE_KEY_FILE (or UNICO_PRIVATE_KEY)")
        if missing:
            raise SystemSettingsError(f"missing setting(s): {', '.join(missing)}")
        if self.private_key is not None and self.private_key_file is not None:
            raise SystemSettingsError("set UNICO_PRIVATE_KEY or UNICO_PRIVATE_KEY_FILE, not both")
        key_file = self.private_key_file
        if self.private_key is None and key_file is not None and not key_file.is_file():
            raise SystemSettingsError(f"UNICO_PRIVATE_KEY_FILE: no such file: {key_file}")
        self.private_key_pem()  # a key that is not one fails here, not at the first call
        return True

    def private_key_pem(self) -> bytes:
        """The service account's RSA key (PEM); the errors name the setting, never a byte."""
        if self.private_key is not None:
            pem, source = self.private_key.get_secret_value().encode(), "UNICO_PRIVATE_KEY"
        else:
            assert self.private_key_file is not None
            source = f"UNICO_PRIVATE_KEY_FILE: {self.private_key_file}"
            try:
                pem = self.private_key_file.read_bytes()
            except OSError as exc:
                raise SystemSettingsError(f"{source}: cannot read: {exc.strerror}") from None
        try:
            key = load_pem_private_key(pem, password=None)
        except (ValueError, TypeError):
            key = None
        if not isinstance(key, rsa.RSAPrivateKey):  # RS256 signs with RSA only
            raise SystemSettingsError(f"{source} is not an unencrypted PEM RSA private key")
        mode = self.private_key_file.stat().st_mode & 0o777 if self.private_key_file else 0
        if mode & 0o077:
            # Still used: refusing would take a running fleet down over a chmod.
            logger.warning(
                "UNICO_PRIVATE_KEY_FILE: %s is open to group or others (mode %o): run chmod "
                "600 on it",
                self.private_key_file,
                mode,
            )
        return pem

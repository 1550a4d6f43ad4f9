"""The console's settings (`CONSOLE_*`): where it listens, the identity provider it logs
reviewers in with, its sessions, and the key that signs reviewers' answers.

In production the provider is the company's (an Auth0 tenant, or any OpenID Connect
provider): `CONSOLE_OIDC_ISSUER` is its issuer URL, whose discovery document the console
reads; the application registered there gives the client id and secret and allows the
callback `<CONSOLE_PUBLIC_URL>/auth/callback`. Roles come from the ID token's claim
`CONSOLE_ROLES_CLAIM` (an Auth0 Action adds a namespaced one).
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from onboarding.runtime.errors import SettingsError
from onboarding.runtime.files import read_secret_file, warn_if_exposed


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = 8090
    public_url: str = Field(
        default="http://127.0.0.1:8090",
        description="the console's address as reviewers' browsers reach it (https in production)",
    )
    oidc_issuer: str | None = Field(
        default=None, description="the identity provider's issuer URL (its discovery document)"
    )
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scope: str = "openid profile email"
    roles_claim: str = Field(
        default="https://onboarding.example/roles",
        description="the ID token claim that lists a person's roles",
    )
    session_secret: SecretStr | None = Field(
        default=None, description="signs the session cookie (32 random bytes or more)"
    )
    session_idle_seconds: int = Field(default=900, ge=1, description="a session's idle timeout")
    signing_key_file: Path | None = Field(
        default=None, description="the Ed25519 key (PEM) that signs reviewers' answers"
    )
    signing_key_id: str = Field(default="console-1", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    audit_log: Path = Field(
        default=Path(".state/console-audit.jsonl"),
        description="the record of every view of a person's evidence (JSON lines)",
    )

    @property
    def secure(self) -> bool:
        """Behind TLS: the session cookie is then `Secure`."""
        return self.public_url.startswith("https://")

    @property
    def callback_url(self) -> str:
        return f"{self.public_url.rstrip('/')}/auth/callback"

    def checked(self) -> ConsoleSettings:
        """These settings, or `SettingsError` naming the first one a console cannot lack."""
        for name, value in (
            ("CONSOLE_OIDC_ISSUER", self.oidc_issuer),
            ("CONSOLE_OIDC_CLIENT_ID", self.oidc_client_id),
            ("CONSOLE_SIGNING_KEY_FILE", self.signing_key_file),
        ):
            if not value:
                raise SettingsError(f"{name} is not set: the console cannot log reviewers in")
        secret = self.session_secret.get_secret_value() if self.session_secret else ""
        if len(secret) < 32:
            raise SettingsError(
                "CONSOLE_SESSION_SECRET is not set or shorter than 32 characters: sessions "
                "would be forgeable"
            )
        return self

    def signing_key(self) -> Ed25519PrivateKey:
        assert self.signing_key_file is not None  # checked()
        pem = read_secret_file(self.signing_key_file, "CONSOLE_SIGNING_KEY_FILE")
        try:
            key = load_pem_private_key(pem, None)
        except ValueError:
            raise SettingsError("CONSOLE_SIGNING_KEY_FILE: not a PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SettingsError("CONSOLE_SIGNING_KEY_FILE: the key must be Ed25519")
        warn_if_exposed(self.signing_key_file, "CONSOLE_SIGNING_KEY_FILE")
        return key

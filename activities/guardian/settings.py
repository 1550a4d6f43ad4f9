"""Auth0's and Guardian's settings: the tenant, its machine-to-machine app, Guardian's host,
how an Auth0 user id comes from the registered account, and the fleet's budget. Without the
four of them the MFA step waits for an operator (half of them stops the start)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from activities.system import SystemSettings, SystemSettingsError, all_or_nothing


class GuardianSettings(SystemSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

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
    requests_per_second: float = Field(
        default=5.0, gt=0, validation_alias="GUARDIAN_REQUESTS_PER_SECOND"
    )

    def check(self) -> bool:
        given = {
            "AUTH0_TENANT_URL": self.auth0_tenant_url,
            "AUTH0_CLIENT_ID": self.auth0_client_id,
            "AUTH0_CLIENT_SECRET (or _FILE)": self.auth0_client_secret
            or self.auth0_client_secret_file,
            "GUARDIAN_URL": self.guardian_url,
        }
        configured = all_or_nothing("Guardian", given)
        if "{uuid}" not in self.guardian_user_id_template:
            raise SystemSettingsError("GUARDIAN_USER_ID_TEMPLATE must contain {uuid}")
        return configured

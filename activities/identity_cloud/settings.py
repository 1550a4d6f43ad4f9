"""Identity Cloud's settings: the entity API, its API client, the attribute mapping and the
fleet's budget. Every variable starts with `IDENTITY_CLOUD_`; without the URL, the client id
and the secret the account step waits for an operator (half of them stops the start)."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from activities.identity_cloud.mapping import DEFAULT_MAPPING, AttributeMapping, MappingError
from activities.system import SystemSettings, SystemSettingsError, all_or_nothing


class IdentityCloudSettings(SystemSettings):
    model_config = SettingsConfigDict(env_prefix="IDENTITY_CLOUD_", extra="ignore", frozen=True)

    url: str | None = Field(
        default=None, description="the entity API's base: https://<domain>.janraincapture.com"
    )
    client_id: str | None = Field(
        default=None, description="an API client with the `owner` (or `direct_access`) feature"
    )
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = Field(
        default=None, description="the secret, read again whenever the file changes (rotation)"
    )
    entity_type: str = "user"
    attributes: str = Field(
        default=json.dumps(DEFAULT_MAPPING, separators=(",", ":")),
        description="JSON: our facts (cpf, name, email, phone, request_id) -> attribute paths",
    )
    timeout_seconds: float = Field(default=10.0, gt=0)

    def mapping(self) -> AttributeMapping:
        try:
            return AttributeMapping.parse(self.attributes)
        except MappingError as exc:
            raise SystemSettingsError(str(exc)) from None

    def check(self) -> bool:
        given = {
            "IDENTITY_CLOUD_URL": self.url,
            "IDENTITY_CLOUD_CLIENT_ID": self.client_id,
            "IDENTITY_CLOUD_CLIENT_SECRET (or _FILE)": self.client_secret
            or self.client_secret_file,
        }
        configured = all_or_nothing("Identity Cloud", given)
        self.mapping()  # a wrong mapping fails at start, not at the first call
        return configured

"""Where selfies are kept, and for how long after their onboarding: `SELFIE_*` variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SelfieSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SELFIE_", extra="ignore", frozen=True)

    store: Literal["local", "s3"] = "local"
    dir: Path = Path(".state/selfies")
    s3_bucket: str | None = None
    s3_prefix: str = "selfies/"
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    retention_seconds: float = Field(
        default=0, ge=0, le=366 * 24 * 3600, description="0: deleted when the onboarding ends"
    )
    # How old an upload no onboarding claimed (or one whose onboarding closed without
    # deleting it) must be before the sweep deletes it, and how often the worker sweeps.
    unclaimed_seconds: float = Field(default=3600, ge=60, le=30 * 24 * 3600)
    sweep_seconds: float = Field(
        default=600, ge=0, le=24 * 3600, description="0: this worker never sweeps"
    )

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> SelfieSettings:
        if self.store == "s3" and not self.s3_bucket:
            raise ValueError("SELFIE_S3_BUCKET is required when SELFIE_STORE=s3")
        return self

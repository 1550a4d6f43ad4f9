"""The selfie store for the application shell; the code lives in `activities.selfies`.

Activities read selfies and must not import `onboarding/`, so the store is defined there;
here the settings choose the backend.
"""

from activities.s3_selfies import S3SelfieStore
from activities.selfies import (
    MAX_SELFIE_BYTES,
    InvalidSelfie,
    InvalidSelfieRef,
    SelfieBackend,
    SelfieNotFound,
    SelfieStore,
)
from onboarding.settings import Settings, SettingsError


def open_selfie_store(settings: Settings) -> SelfieBackend:
    """SELFIE_STORE=local (a private directory, SELFIE_DIR) or s3 (SELFIE_S3_*)."""
    if settings.selfie_store == "s3":
        if not settings.selfie_s3_bucket:
            raise SettingsError("SELFIE_S3_BUCKET: required when SELFIE_STORE=s3")
        return S3SelfieStore.connect(
            settings.selfie_s3_bucket,
            settings.selfie_s3_prefix,
            settings.selfie_s3_endpoint_url,
            settings.selfie_s3_region,
        )
    return SelfieStore(settings.selfie_dir)


__all__ = [
    "MAX_SELFIE_BYTES",
    "InvalidSelfie",
    "InvalidSelfieRef",
    "S3SelfieStore",
    "SelfieBackend",
    "SelfieNotFound",
    "SelfieStore",
    "open_selfie_store",
]

"""Which selfie store this process uses, as the settings say (the stores are activities')."""

from activities.selfies.backend import SelfieBackend
from activities.selfies.local_store import SelfieStore
from activities.selfies.s3_store import S3SelfieStore
from onboarding.runtime.settings import Settings, SettingsError


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

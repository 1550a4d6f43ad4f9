"""The selfie's life on the activity side: a claim check, so that an image never enters a
Temporal payload.

A caller stores the bytes and passes the returned `selfie_ref` to the workflow; the activity
that calls Unico fetches the bytes by ref (`inspection` first checks them as Unico would),
and the onboarding's last step deletes them (`cleanup`). Stores: `local_store` (a private
directory) and `s3_store` (S3-compatible object storage), both `backend.SelfieBackend`;
`open_store` picks the one the settings name. Beside a capture of Unico's SDK, the image the
person saw is kept for reviewers only (`preview`).
"""

from __future__ import annotations

from activities.selfies.backend import (
    InvalidSelfie,
    InvalidSelfieRef,
    SelfieBackend,
    SelfieNotFound,
    SelfieReleased,
)
from activities.selfies.cleanup import SelfieCleanup
from activities.selfies.local_store import SelfieStore
from activities.selfies.preview import MAX_PREVIEW_BYTES, preview_image
from activities.selfies.s3_store import S3SelfieStore
from activities.selfies.settings import SelfieSettings
from activities.selfies.sweeper import SelfieSweeper


def open_store(settings: SelfieSettings) -> SelfieBackend:
    """SELFIE_STORE=local (a private directory, SELFIE_DIR) or s3 (SELFIE_S3_*)."""
    if settings.store == "s3":
        assert settings.s3_bucket is not None  # the settings refuse s3 without one
        return S3SelfieStore.connect(
            settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url, settings.s3_region
        )
    return SelfieStore(settings.dir)


__all__ = [
    "MAX_PREVIEW_BYTES",
    "InvalidSelfie",
    "InvalidSelfieRef",
    "S3SelfieStore",
    "SelfieBackend",
    "SelfieCleanup",
    "SelfieNotFound",
    "SelfieReleased",
    "SelfieSettings",
    "SelfieStore",
    "SelfieSweeper",
    "open_store",
    "preview_image",
]

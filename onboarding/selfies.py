"""The selfie store for the application shell; the code lives in `activities.selfies`.

Activities read selfies and must not import `onboarding/`, so the store is defined there.
"""

from activities.selfies import (
    MAX_SELFIE_BYTES,
    InvalidSelfie,
    InvalidSelfieRef,
    SelfieBackend,
    SelfieNotFound,
    SelfieStore,
)

__all__ = [
    "MAX_SELFIE_BYTES",
    "InvalidSelfie",
    "InvalidSelfieRef",
    "SelfieBackend",
    "SelfieNotFound",
    "SelfieStore",
]

"""The client of a calling service: connect to Temporal with the payload codec, store a
selfie or a capture, start an onboarding, get its decision and its result, list reviews.

    from onboarding_client import CallerConfig, connect, store_selfie, start_for_decision

`docs/calling.md` is the recipe; the contract itself is `onboarding_client.contract`.
"""

from onboarding_client.codec import EncryptionCodec
from onboarding_client.config import CallerConfig
from onboarding_client.connection import connect
from onboarding_client.keyring import Keyring
from onboarding_client.onboardings import (
    OnboardingHandle,
    decision_of,
    handle_for,
    onboarding_status,
    result_of,
    start_for_decision,
    start_onboarding,
)
from onboarding_client.reviews import WaitingReview, waiting_reviews
from onboarding_client.selfies import GatewayUnreachable, SelfieRefused, store_selfie

__all__ = [
    "CallerConfig",
    "EncryptionCodec",
    "GatewayUnreachable",
    "Keyring",
    "OnboardingHandle",
    "SelfieRefused",
    "WaitingReview",
    "connect",
    "decision_of",
    "handle_for",
    "onboarding_status",
    "result_of",
    "start_for_decision",
    "start_onboarding",
    "store_selfie",
    "waiting_reviews",
]

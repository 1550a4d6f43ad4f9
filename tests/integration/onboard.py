"""Requests for the integration tests: a subject, a stored selfie, short waits."""

from __future__ import annotations

import uuid
from typing import Any

from activities.selfies.local_store import SelfieStore
from devstack.demo import SAMPLE_SELFIE
from onboarding_client.contract.request import OnboardingRequest

FAST = {"poll_initial_seconds": 1, "poll_max_seconds": 4, "max_process_attempts": 2}
SAMPLE = SAMPLE_SELFIE.read_bytes()


def request(selfies: SelfieStore, cpf: str, image: bytes = SAMPLE, **options: Any):
    return OnboardingRequest.model_validate(
        {
            "request_id": uuid.uuid4().hex,
            "subject": {"code": cpf, "name": "Maria Silva", "email": "maria@example.com"},
            "selfie_ref": selfies.put(image),
            "options": {**FAST, **options},
        }
    )


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    keys = ("token_requests", "create_requests", "processes_created", "get_requests")
    return {key: after[key] - before[key] for key in keys}

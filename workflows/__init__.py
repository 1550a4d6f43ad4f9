"""Deterministic orchestration: the workflows, and the pure rules they run on.

What the application shell may use: the workflows a worker runs (`WORKFLOWS`), the input's
rules (`parse_request`), the policy (`decide`) and the reactions to each error class (what
`onboarding explain` says), all from here.
"""

from workflows.forget import ForgetRun
from workflows.onboarding import Onboarding
from workflows.policy import decide
from workflows.reactions import REACTIONS, reaction_for, step_does
from workflows.requests import MFA_REFUSALS, REFUSALS, parse_request
from workflows.retention import SelfieRetention

WORKFLOWS = (Onboarding, SelfieRetention, ForgetRun)

__all__ = [
    "MFA_REFUSALS",
    "REACTIONS",
    "REFUSALS",
    "WORKFLOWS",
    "Onboarding",
    "SelfieRetention",
    "decide",
    "parse_request",
    "reaction_for",
    "step_does",
]

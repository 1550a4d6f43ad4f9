"""What the Onboarding workflow does about each error class: one table, for the workflow
and for `onboarding explain`.

An activity raises an ApplicationError whose `type` is the error class (activities/errors.py
classifies from the catalogs). Transient and rate-limited errors are retried by the
activity's retry policy; every other class comes back to the workflow at once, and this
table says what it does then. Pure data, safe in the workflow sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType

from temporalio.common import RetryPolicy

from onboarding_client.contract.errors import UNKNOWN_ERROR_ATTEMPTS, ErrorClass
from onboarding_client.contract.outcome import Outcome
from onboarding_client.contract.request import OnboardingOptions
from onboarding_client.contract.status import Stage

# A refused token is replaced this many times per call (the activity drops it and gets a
# new one on its next attempt); then the onboarding ends as error.
MAX_TOKEN_REFRESHES = 2
# The activities' own retries (transient, rate-limited): the first wait, growing to the last.
RETRY_FIRST = timedelta(seconds=1)
RETRY_BACKOFF = 2.0
RETRY_LAST = timedelta(seconds=60)


class Remedy(StrEnum):
    RETRY_IN_ACTIVITY = "retry_in_activity"  # a final failure means the retries ran out
    NEW_TOKEN = "new_token"  # acquire a new token, then call again
    WAIT_FOR_OPERATOR = "wait_for_operator"  # durable waits, growing, until it heals
    NEW_PROCESS = "new_process"  # the process is lost: create another while attempts remain
    FINISH = "finish"  # end the onboarding with `outcome`


@dataclass(frozen=True)
class Reaction:
    remedy: Remedy
    outcome: Outcome  # at once for FINISH; once the remedy is exhausted otherwise
    does: str  # in words, for `onboarding explain`
    stage: Stage | None = None  # shown while waiting for an operator


_DEFAULTS = OnboardingOptions()
_CONFIG, _LOCKED = _DEFAULTS.configuration_retry, _DEFAULTS.locked_retry


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:g} min"


_BACKOFF = (
    f"{RETRY_FIRST.total_seconds():g} s growing x{RETRY_BACKOFF:g} to "
    f"{RETRY_LAST.total_seconds():g} s"
)


REACTIONS: Mapping[str, Reaction] = MappingProxyType(
    {
        ErrorClass.TRANSIENT: Reaction(
            Remedy.RETRY_IN_ACTIVITY,
            Outcome.ERROR,
            f"retry with exponential backoff ({_BACKOFF}) until the onboarding's "
            f"deadline; an error nothing explains, {UNKNOWN_ERROR_ATTEMPTS} attempts at most; "
            "then outcome error",
        ),
        ErrorClass.RATE_LIMITED: Reaction(
            Remedy.RETRY_IN_ACTIVITY,
            Outcome.ERROR,
            "retry after the Retry-After delay (next_retry_delay), or with exponential "
            "backoff when there is none, until the onboarding's deadline",
        ),
        ErrorClass.TOKEN_EXPIRED: Reaction(
            Remedy.NEW_TOKEN,
            Outcome.ERROR,
            "drop the cached token and call again with a new one, at most "
            f"{MAX_TOKEN_REFRESHES} times per call; then outcome error",
        ),
        ErrorClass.INVALID_REQUEST: Reaction(
            Remedy.FINISH, Outcome.INVALID_REQUEST, "no retry: outcome invalid_request"
        ),
        ErrorClass.RECAPTURE: Reaction(
            Remedy.FINISH, Outcome.RECAPTURE, "no retry: outcome recapture"
        ),
        ErrorClass.CONFIGURATION: Reaction(
            Remedy.WAIT_FOR_OPERATOR,
            Outcome.ERROR,
            "an operator must act: stage blocked_configuration, retry after "
            f"{_minutes(_CONFIG.initial_seconds)} growing to {_minutes(_CONFIG.max_seconds)} "
            "(or at once on the retry_now signal), so fixing the account heals every waiting "
            "onboarding; outcome error if still failing at the deadline",
            Stage.BLOCKED_CONFIGURATION,
        ),
        ErrorClass.LOCKED: Reaction(
            Remedy.WAIT_FOR_OPERATOR,
            Outcome.ERROR,
            "the account is locked: stage blocked_locked, retry after "
            f"{_minutes(_LOCKED.initial_seconds)} growing to {_minutes(_LOCKED.max_seconds)} "
            "(or at once on the retry_now signal); outcome error if still locked at the deadline",
            Stage.BLOCKED_LOCKED,
        ),
        ErrorClass.NOT_FOUND: Reaction(
            Remedy.NEW_PROCESS,
            Outcome.ERROR,
            "the process is lost: create a new one while max_process_attempts allows; "
            "then outcome error",
        ),
        ErrorClass.GONE: Reaction(
            Remedy.NEW_PROCESS,
            Outcome.ERROR,
            "the process ended in error (status 5): create a new one while "
            "max_process_attempts allows; then outcome error",
        ),
        ErrorClass.PERMANENT: Reaction(Remedy.FINISH, Outcome.ERROR, "no retry: outcome error"),
        ErrorClass.ALREADY_EXISTS: Reaction(
            Remedy.FINISH,
            Outcome.ERROR,
            "the record exists already: the account step looks it up by the person's unique "
            "key and adopts it, never creating a second one",
        ),
        ErrorClass.AMBIGUOUS_CREATE: Reaction(
            Remedy.NEW_PROCESS,
            Outcome.ERROR,
            "the create request went out and no answer came: count it (Unico may hold a "
            "process) and create again while max_process_attempts allows; then outcome error",
        ),
    }
)
# Anything else that fails an activity (a bug, a type no table knows) ends the onboarding.
UNKNOWN = Reaction(Remedy.FINISH, Outcome.ERROR, "no retry: outcome error")


def reaction_for(error_type: str | None) -> Reaction:
    return REACTIONS.get(error_type or "", UNKNOWN)


# The steps after approval (the account) run on the same reactions, but a failure that no
# reaction cures ends the step `failed`, never the onboarding: the outcome stays approved.
STEP_FAILED = "the step ends failed with the code; the outcome stays approved"
_STEP_DOES: Mapping[str, str] = MappingProxyType(
    {
        ErrorClass.TRANSIENT: f"retry with exponential backoff ({_BACKOFF}) until the step's "
        f"deadline; an error nothing explains, {UNKNOWN_ERROR_ATTEMPTS} attempts at most; "
        f"then {STEP_FAILED}",
        ErrorClass.RATE_LIMITED: "retry after the Retry-After delay, or with exponential "
        f"backoff when there is none, until the step's deadline; then {STEP_FAILED}",
        ErrorClass.CONFIGURATION: "an operator must act: stage blocked_configuration, retry "
        f"after {_minutes(_CONFIG.initial_seconds)} growing to "
        f"{_minutes(_CONFIG.max_seconds)} (or at once on the retry_now signal); {STEP_FAILED} "
        "if still failing at the step's deadline",
        ErrorClass.ALREADY_EXISTS: REACTIONS[ErrorClass.ALREADY_EXISTS].does,
    }
)


def step_does(error_type: str | None) -> str:
    """What a step after approval does about an error of this class, in words."""
    return _STEP_DOES.get(error_type or "", f"no retry: {STEP_FAILED}")


# The classes the activity's own retry policy retries, and every other one, which it must
# not retry: the workflow reacts to those.
ACTIVITY_RETRIED = frozenset(
    c for c, reaction in REACTIONS.items() if reaction.remedy is Remedy.RETRY_IN_ACTIVITY
)
WORKFLOW_HANDLED = sorted(str(t) for t in REACTIONS if t not in ACTIVITY_RETRIED)
# The one place that says what an activity retries by itself, and how.
RETRY_POLICY = RetryPolicy(
    initial_interval=RETRY_FIRST,
    backoff_coefficient=RETRY_BACKOFF,
    maximum_interval=RETRY_LAST,
    non_retryable_error_types=WORKFLOW_HANDLED,
)

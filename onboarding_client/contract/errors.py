"""The error vocabulary: the type of every ApplicationError an activity raises.

The activities classify each error they meet into one class (from the catalogs); the
workflow reacts to the class, never to a raw code.
"""

from __future__ import annotations

from enum import StrEnum

from temporalio.exceptions import ApplicationError


class ErrorClass(StrEnum):
    TRANSIENT = "transient"
    RATE_LIMITED = "rate_limited"
    TOKEN_EXPIRED = "token_expired"
    INVALID_REQUEST = "invalid_request"
    RECAPTURE = "recapture"
    CONFIGURATION = "configuration"
    LOCKED = "locked"
    NOT_FOUND = "not_found"
    GONE = "gone"
    # The call can never succeed as made, the caller's data is not at fault and no setting
    # fixes it (a clash with the remote's state, a request the worker built wrong). No
    # retry; outcome `error`.
    PERMANENT = "permanent"
    # What the call would create exists already (Identity Cloud 361 on the person's unique
    # key): the step looks it up and adopts it instead of creating a second one.
    ALREADY_EXISTS = "already_exists"
    # No catalog's: a create request went out and no answer came back, so the remote may
    # hold what it created (POST /processes/v1 is not idempotent).
    AMBIGUOUS_CREATE = "ambiguous_create"


# What a catalog may give a code: every class but the transport layer's own.
CATALOG_CLASSES = frozenset(ErrorClass) - {ErrorClass.AMBIGUOUS_CREATE}
# Attempts at an error that no catalog rule and no HTTP status explains: retried as
# transient, but not for ever.
UNKNOWN_ERROR_ATTEMPTS = 5


def refusal(code: str, message: str) -> ApplicationError:
    """A refusal the caller reads (an update's validator, a client's own check): the code is
    the error's type, and nothing is retried."""
    return ApplicationError(message, type=code, non_retryable=True)

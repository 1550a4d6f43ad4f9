"""An error answer -> its class, from the catalogs -> the ApplicationError the workflow reacts to.

One classifier for every error system of the seeds (`catalog.ErrorSystem`). The order, for
a code read from the system's envelope:

1. the code itself, listed in the system's catalog;
2. the catalog's catch-all rules (Identity Cloud: a multiple of 10 or 100, or a range);
3. the HTTP status, as the catalog maps it;
4. `transient`, retried at most UNKNOWN_ERROR_ATTEMPTS times.

The class, never the raw code, drives what happens next. Every raised error keeps the raw
code, the message, the HTTP status, the system and the `request_token` in its details, for
the Web UI and support tickets; messages are scrubbed of anything that looks personal.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any, Literal, NoReturn

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.catalog import ErrorSystem
from activities.envelopes import read_envelope
from onboarding_client.contract.errors import UNKNOWN_ERROR_ATTEMPTS, ErrorClass

# Answers about the person or the process, not faults of ours: logged at DEBUG, no traceback.
BENIGN = frozenset(
    {ErrorClass.INVALID_REQUEST, ErrorClass.RECAPTURE, ErrorClass.GONE, ErrorClass.ALREADY_EXISTS}
)
# Transport failures that happen before a request is on the wire: nothing reached the server.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
MAX_MESSAGE = 300

Rule = Literal["code", "catch_all", "http_status", "fallback"]

# A remote message may echo what it was sent: CPFs (with or without punctuation), e-mail
# addresses and long digit runs (phones) never reach an error's message or details.
_PERSONAL = re.compile(
    r"\d{3}\.\d{3}\.\d{3}-\d{2}|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?\d[\d ()-]{7,}\d"
)


@dataclass(frozen=True)
class ErrorDetails:
    system: str
    code: str | None
    message: str
    http_status: int | None
    request_token: str | None = None


@dataclass(frozen=True)
class Classification:
    error_class: ErrorClass
    rule: Rule
    name: str | None = None  # the catalog's name for the code, when listed
    covered_by: str | None = None  # the catch-all that matched


def classification(
    system: ErrorSystem, code: str | None, http_status: int | None
) -> Classification:
    catalog = system.catalog
    if code is not None:
        if entry := catalog.entries.get(code):
            return Classification(entry.error_class, "code", entry.name)
        if rule := catalog.covering(code):
            return Classification(rule.error_class, "catch_all", covered_by=rule.covered_by)
    if http_status is not None and (by_status := catalog.for_http_status(http_status)):
        return Classification(by_status, "http_status")
    return Classification(ErrorClass.TRANSIENT, "fallback")


def classify(system: ErrorSystem, code: str | None, http_status: int | None) -> ErrorClass:
    return classification(system, code, http_status).error_class


def scrub(text: str) -> str:
    """The message without anything that looks like personal data, and not too long."""
    cleaned = _PERSONAL.sub("[redacted]", text)
    return cleaned if len(cleaned) <= MAX_MESSAGE else cleaned[: MAX_MESSAGE - 3] + "..."


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def parse_error(system: ErrorSystem, response: httpx.Response) -> ErrorDetails:
    """Read the code and message out of the system's error envelope, whatever came back."""
    envelope = read_envelope(system.read_envelope, _json(response))
    return ErrorDetails(
        system=system.name,
        code=envelope.code,
        message=scrub(envelope.message or response.reason_phrase),
        http_status=response.status_code,
        request_token=envelope.request_token,
    )


MAX_RETRY_AFTER = timedelta(hours=1)
_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?")  # delay-seconds; ASCII digits only


def retry_after(response: httpx.Response) -> timedelta | None:
    """The server's Retry-After in seconds, capped; None when absent or not a number."""
    value = response.headers.get("Retry-After", "").strip()
    if not _SECONDS.fullmatch(value):
        return None
    return timedelta(seconds=min(float(value), MAX_RETRY_AFTER.total_seconds()))


def _attempt() -> int:
    return activity.info().attempt if activity.in_activity() else 1


def application_error(system: ErrorSystem, details: ErrorDetails, **extra: Any) -> ApplicationError:
    """The classified error the workflow reacts to; `details` as `parse_error` read them."""
    found = classification(system, details.code, details.http_status)
    error_class = found.error_class
    # An error nothing explains is retried as transient, but not for ever: the one case
    # the caller's retry policy (which says what each class gets) cannot see.
    gave_up = found.rule == "fallback" and _attempt() >= UNKNOWN_ERROR_ATTEMPTS
    label = f"{details.system} {details.code or details.http_status}"
    return ApplicationError(
        f"{label}: {details.message}",
        {**asdict(details), "class": error_class.value, **_without_none(asdict(found))},
        type=error_class.value,
        non_retryable=gave_up,
        category=(
            ApplicationErrorCategory.BENIGN
            if error_class in BENIGN
            else ApplicationErrorCategory.UNSPECIFIED
        ),
        **extra,
    )


def carried_details(error: ApplicationError) -> tuple[ErrorDetails, str | None] | None:
    """What an error raised here carries: its ErrorDetails and the rule that classified it
    (None for a transport failure); None for an error not raised by this module."""
    raw = error.details[0] if error.details else None
    if not isinstance(raw, dict) or not isinstance(raw.get("system"), str):
        return None
    status = raw.get("http_status")
    details = ErrorDetails(
        system=raw["system"],
        code=None if raw.get("code") is None else str(raw["code"]),
        message=str(raw.get("message") or ""),
        http_status=status if isinstance(status, int) else None,
        request_token=raw.get("request_token"),
    )
    rule = raw.get("rule")
    return details, rule if isinstance(rule, str) else None


def with_unanswered_creates(error: ApplicationError, unanswered: int) -> ApplicationError:
    """`error`, carrying the count of earlier creates that left without an answer (a worker
    died with one out), so that a failure which ends the onboarding still counts them."""
    if unanswered <= 0:
        return error
    raw = error.details[0] if error.details else None
    details = {**(raw if isinstance(raw, dict) else {}), "unanswered_creates": unanswered}
    return ApplicationError(
        error.message,
        details,
        type=error.type,
        non_retryable=error.non_retryable,
        next_retry_delay=error.next_retry_delay,
        category=error.category,
    )


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None and k != "error_class"}


def raise_for_answer(system: ErrorSystem, response: httpx.Response) -> NoReturn:
    """An answer that is an error: classified from the system's catalog."""
    details = parse_error(system, response)
    raise application_error(system, details, next_retry_delay=retry_after(response))


def request_was_sent(exc: httpx.TransportError) -> bool:
    """Whether the server may have received the request: only a failure to connect says no."""
    return not isinstance(exc, NOT_SENT)


def raise_for_transport(
    system: str, exc: httpx.TransportError, idempotent: bool = True
) -> NoReturn:
    """No answer from the remote. Try again, unless the request was not idempotent and may
    have arrived: then the workflow decides (ErrorClass.AMBIGUOUS_CREATE), since a blind retry could
    create a second process."""
    kind = type(exc).__name__
    ambiguous = not idempotent and request_was_sent(exc)
    message = scrub(f"{kind}: {exc}" if str(exc) else kind)
    details = {**asdict(ErrorDetails(system, None, message, None)), "ambiguous": ambiguous}
    if ambiguous:
        raise ApplicationError(
            f"{system}: the request was sent and no answer came ({kind})",
            details,
            type=ErrorClass.AMBIGUOUS_CREATE,
        ) from exc
    raise ApplicationError(
        f"{system}: no answer ({kind})", details, type=ErrorClass.TRANSIENT.value
    ) from exc

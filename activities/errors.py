"""Unico's error answers -> an error class -> the ApplicationError the workflow reacts to.

The class, never the raw code, drives retries. Every raised error keeps the raw code,
message, HTTP status and system in its details, for the Web UI and for support tickets.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any, NoReturn

import httpx
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from workflows.models import ErrorClass

RETRYABLE = frozenset({ErrorClass.TRANSIENT, ErrorClass.RATE_LIMITED, ErrorClass.TOKEN_EXPIRED})
# Answers about the person or the process, not faults of ours: logged at DEBUG, no traceback.
BENIGN = frozenset({ErrorClass.INVALID_REQUEST, ErrorClass.RECAPTURE, ErrorClass.GONE})

# Codes of seeds 000/001 (auth) and 004 (process) whose class is not the family default.
_AUTH_CODES: dict[str, ErrorClass] = {
    "1.2.4": ErrorClass.TOKEN_EXPIRED,
    "1.2.7": ErrorClass.TOKEN_EXPIRED,
    "1.2.18": ErrorClass.LOCKED,
}
_PROCESS_CODES: dict[int, ErrorClass] = {
    10201: ErrorClass.CONFIGURATION,
    10501: ErrorClass.TOKEN_EXPIRED,
    10502: ErrorClass.TOKEN_EXPIRED,
    10506: ErrorClass.CONFIGURATION,
    10507: ErrorClass.RECAPTURE,
    10508: ErrorClass.RECAPTURE,
    20001: ErrorClass.CONFIGURATION,
    20002: ErrorClass.CONFIGURATION,
    30017: ErrorClass.CONFIGURATION,
    50001: ErrorClass.NOT_FOUND,
    99999: ErrorClass.TRANSIENT,
}
_AUTH_CODE_AT_END = re.compile(r"(\d+\.\d+\.\d+)\s*$")


@dataclass(frozen=True)
class UnicoErrorDetails:
    system: str
    code: str | None
    message: str
    http_status: int | None


def classify(system: str, code: str | None, http_status: int | None) -> ErrorClass:
    if code is not None:
        if system == "unico-auth":
            return _AUTH_CODES.get(code, ErrorClass.CONFIGURATION)
        if code.isdigit():
            number = int(code)
            if number in _PROCESS_CODES:
                return _PROCESS_CODES[number]
            if 20000 <= number < 30000:
                return ErrorClass.INVALID_REQUEST
    return _classify_http(http_status)


def _classify_http(http_status: int | None) -> ErrorClass:
    if http_status == 429:
        return ErrorClass.RATE_LIMITED
    if http_status == 404:
        return ErrorClass.NOT_FOUND
    if http_status == 410:
        return ErrorClass.GONE
    if http_status in (401, 403):
        return ErrorClass.CONFIGURATION
    return ErrorClass.TRANSIENT


def parse_error(system: str, response: httpx.Response) -> UnicoErrorDetails:
    """Read the code and message out of the system's error envelope, whatever came back."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    code: str | None = None
    message = ""
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict):  # process API: {"error": {"code", "description"|"message"}}
            raw_code = inner.get("code")
            code = None if raw_code is None else str(raw_code)
            message = str(inner.get("description") or inner.get("message") or "")
        elif isinstance(body.get("error_description"), str):  # auth: "... 1.2.4"
            message = body["error_description"]
            match = _AUTH_CODE_AT_END.search(message)
            code = match.group(1) if match else None
    return UnicoErrorDetails(
        system=system,
        code=code,
        message=message or response.reason_phrase,
        http_status=response.status_code,
    )


MAX_RETRY_AFTER = timedelta(hours=1)
_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?")  # delay-seconds; ASCII digits only


def retry_after(response: httpx.Response) -> timedelta | None:
    """The server's Retry-After in seconds, capped; None when absent or not a number."""
    value = response.headers.get("Retry-After", "").strip()
    if not _SECONDS.fullmatch(value):
        return None
    return timedelta(seconds=min(float(value), MAX_RETRY_AFTER.total_seconds()))


def application_error(details: UnicoErrorDetails, **extra: Any) -> ApplicationError:
    error_class = classify(details.system, details.code, details.http_status)
    label = f"{details.system} {details.code or details.http_status}"
    return ApplicationError(
        f"{label}: {details.message}",
        asdict(details),
        type=error_class.value,
        non_retryable=error_class not in RETRYABLE,
        category=(
            ApplicationErrorCategory.BENIGN
            if error_class in BENIGN
            else ApplicationErrorCategory.UNSPECIFIED
        ),
        **extra,
    )


def raise_for_unico(response: httpx.Response, system: str) -> NoReturn:
    details = parse_error(system, response)
    raise application_error(details, next_retry_delay=retry_after(response))


def raise_for_transport(system: str, exc: httpx.TransportError) -> NoReturn:
    """Network failures and timeouts: no answer from Unico, so try again."""
    details = UnicoErrorDetails(system, None, f"{type(exc).__name__}: {exc}", None)
    raise ApplicationError(
        f"{system}: no answer ({type(exc).__name__})",
        asdict(details),
        type=ErrorClass.TRANSIENT.value,
    ) from exc

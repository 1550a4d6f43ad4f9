"""Unico's error answers -> parsed details -> error class -> ApplicationError. Pure tables."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from activities.errors import (
    UnicoErrorDetails,
    application_error,
    classify,
    parse_error,
    raise_for_unico,
    retry_after,
)
from workflows.models import ErrorClass

AUTH, PROCESS = "unico-auth", "unico-process"
REQUEST = httpx.Request("GET", "http://unico.test/processes/v1/x")


def response(status: int, body: Any = None, *, content: bytes | None = None, **kw: Any):
    if content is not None:
        return httpx.Response(status, content=content, request=REQUEST, **kw)
    if body is None:
        return httpx.Response(status, request=REQUEST, **kw)
    return httpx.Response(status, json=body, request=REQUEST, **kw)


# --- parse_error ----------------------------------------------------------------------

PARSED = [
    # (case, system, response, code, message)
    (
        "process envelope, integer code",
        PROCESS,
        response(400, {"error": {"code": 20507, "description": "CPF inválido"}}),
        "20507",
        "CPF inválido",
    ),
    (
        "process envelope, string code",
        PROCESS,
        response(400, {"error": {"code": "20507", "description": "CPF inválido"}}),
        "20507",
        "CPF inválido",
    ),
    (
        "process envelope, message instead of description",
        PROCESS,
        response(401, {"error": {"code": 10501, "message": "token inválido"}}),
        "10501",
        "token inválido",
    ),
    (
        "process envelope without a code",
        PROCESS,
        response(500, {"error": {"description": "falha"}}),
        None,
        "falha",
    ),
    (
        "auth envelope, code at the end",
        AUTH,
        response(
            401, {"error": "server_error", "error_description": "Falha na autenticação 1.2.4"}
        ),
        "1.2.4",
        "Falha na autenticação 1.2.4",
    ),
    (
        "auth envelope, two-digit part",
        AUTH,
        response(
            401, {"error": "server_error", "error_description": "Falha na autenticação 1.2.18"}
        ),
        "1.2.18",
        "Falha na autenticação 1.2.18",
    ),
    (
        "auth envelope without a code",
        AUTH,
        response(500, {"error": "server_error", "error_description": "Internal failure"}),
        None,
        "Internal failure",
    ),
    (
        "non-JSON body: the reason phrase",
        PROCESS,
        response(502, content=b"<html>upstream down</html>"),
        None,
        "Bad Gateway",
    ),
    ("empty body", PROCESS, response(500), None, "Internal Server Error"),
    ("JSON that is not an object", PROCESS, response(503, [1, 2]), None, "Service Unavailable"),
    ("JSON null", PROCESS, response(500, content=b"null"), None, "Internal Server Error"),
]


@pytest.mark.parametrize(
    ("system", "answer", "code", "message"),
    [case[1:] for case in PARSED],
    ids=[case[0] for case in PARSED],
)
def test_parse_error(system: str, answer: httpx.Response, code: str | None, message: str) -> None:
    assert parse_error(system, answer) == UnicoErrorDetails(
        system=system, code=code, message=message, http_status=answer.status_code
    )


# --- classify -------------------------------------------------------------------------

CLASSES = [
    # (system, code, HTTP status, class)
    (AUTH, "1.2.4", 401, ErrorClass.TOKEN_EXPIRED),
    (AUTH, "1.2.7", 401, ErrorClass.TOKEN_EXPIRED),
    (AUTH, "1.2.18", 401, ErrorClass.LOCKED),
    (AUTH, "1.2.5", 401, ErrorClass.CONFIGURATION),
    (AUTH, "1.0.1", 401, ErrorClass.CONFIGURATION),
    (AUTH, "1.1.1", 401, ErrorClass.CONFIGURATION),
    (AUTH, "1.2.22", 401, ErrorClass.CONFIGURATION),
    (AUTH, "1.3.2", 401, ErrorClass.CONFIGURATION),
    (AUTH, None, 500, ErrorClass.TRANSIENT),
    (PROCESS, "10501", 401, ErrorClass.TOKEN_EXPIRED),
    (PROCESS, "10502", 401, ErrorClass.TOKEN_EXPIRED),
    (PROCESS, "10507", 400, ErrorClass.RECAPTURE),
    (PROCESS, "10508", 400, ErrorClass.RECAPTURE),
    (PROCESS, "20507", 400, ErrorClass.INVALID_REQUEST),
    (PROCESS, "20003", 400, ErrorClass.INVALID_REQUEST),
    (PROCESS, "20900", 400, ErrorClass.INVALID_REQUEST),
    (PROCESS, "20001", 401, ErrorClass.CONFIGURATION),
    (PROCESS, "20002", 401, ErrorClass.CONFIGURATION),
    (PROCESS, "10201", 403, ErrorClass.CONFIGURATION),
    (PROCESS, "10506", 403, ErrorClass.CONFIGURATION),
    (PROCESS, "30017", 401, ErrorClass.CONFIGURATION),
    (PROCESS, "99999", 500, ErrorClass.TRANSIENT),
    (PROCESS, "50001", 404, ErrorClass.NOT_FOUND),
    # Codes the tables do not know fall back to the HTTP status.
    (PROCESS, "12345", 429, ErrorClass.RATE_LIMITED),
    (PROCESS, "not-a-number", 429, ErrorClass.RATE_LIMITED),
    (PROCESS, None, 429, ErrorClass.RATE_LIMITED),
    (PROCESS, None, 404, ErrorClass.NOT_FOUND),
    (PROCESS, None, 410, ErrorClass.GONE),
    (PROCESS, None, 500, ErrorClass.TRANSIENT),
    (PROCESS, None, 503, ErrorClass.TRANSIENT),
    (PROCESS, "12345", 500, ErrorClass.TRANSIENT),
    (PROCESS, None, None, ErrorClass.TRANSIENT),
]


@pytest.mark.parametrize(("system", "code", "http_status", "expected"), CLASSES)
def test_classify(
    system: str, code: str | None, http_status: int | None, expected: ErrorClass
) -> None:
    assert classify(system, code, http_status) is expected


# --- application_error ----------------------------------------------------------------

RAISED = [
    # (details, type, non_retryable, benign)
    (UnicoErrorDetails(PROCESS, "99999", "falha interna", 500), "transient", False, False),
    (UnicoErrorDetails(PROCESS, None, "Too Many Requests", 429), "rate_limited", False, False),
    (UnicoErrorDetails(AUTH, "1.2.4", "Falha 1.2.4", 401), "token_expired", False, False),
    (UnicoErrorDetails(PROCESS, "20507", "CPF inválido", 400), "invalid_request", True, True),
    (UnicoErrorDetails(PROCESS, "10507", "capture expired", 400), "recapture", True, True),
    (UnicoErrorDetails(AUTH, "1.2.5", "Falha 1.2.5", 401), "configuration", True, False),
    (UnicoErrorDetails(AUTH, "1.2.18", "Falha 1.2.18", 401), "locked", True, False),
    (UnicoErrorDetails(PROCESS, "50001", "not found", 404), "not_found", True, False),
    (UnicoErrorDetails(PROCESS, None, "Gone", 410), "gone", True, True),
]


@pytest.mark.parametrize(("details", "error_type", "non_retryable", "benign"), RAISED)
def test_application_error(
    details: UnicoErrorDetails, error_type: str, non_retryable: bool, benign: bool
) -> None:
    error = application_error(details)

    assert isinstance(error, ApplicationError)
    assert error.type == error_type
    assert error.non_retryable is non_retryable
    assert (error.category == ApplicationErrorCategory.BENIGN) is benign
    assert error.details == (
        {
            "system": details.system,
            "code": details.code,
            "message": details.message,
            "http_status": details.http_status,
        },
    )
    assert details.message in error.message
    assert str(details.code or details.http_status) in error.message


def test_raise_for_unico_carries_retry_after_as_the_next_retry_delay() -> None:
    answer = response(
        429,
        {"error": {"code": 12345, "description": "slow down"}},
        headers={"Retry-After": "3"},
    )
    with pytest.raises(ApplicationError) as caught:
        raise_for_unico(answer, system=PROCESS)

    error = caught.value
    assert error.type == "rate_limited"
    assert not error.non_retryable
    assert error.next_retry_delay == timedelta(seconds=3)
    assert error.details[0]["code"] == "12345"
    assert error.details[0]["http_status"] == 429


def test_raise_for_unico_without_retry_after_leaves_the_delay_to_the_policy() -> None:
    with pytest.raises(ApplicationError) as caught:
        raise_for_unico(response(500), system=PROCESS)
    assert caught.value.type == "transient"
    assert caught.value.next_retry_delay is None


# --- retry_after ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (b"3", timedelta(seconds=3)),
        (b"1.5", timedelta(seconds=1.5)),
        (b"0", timedelta(0)),
        (None, None),
        (b"", None),
        (b"soon", None),
        (b"-1", None),
        (b"1.2.3", None),
        (b"1e3", None),
        (b"nan", None),
        (b"Wed, 21 Oct 2015 07:28:00 GMT", None),  # the HTTP-date form is not used by Unico
    ],
)
def test_retry_after(header: bytes | None, expected: timedelta | None) -> None:
    headers = [] if header is None else [(b"Retry-After", header)]
    assert retry_after(response(429, headers=headers)) == expected


@pytest.mark.parametrize("header", [b"\xb2", b"99999999999999999999"])
def test_retry_after_never_raises_on_garbage(header: bytes) -> None:
    # b"\xb2" decodes (latin-1) to "²", which str.isdigit() accepts and float() refuses;
    # 1e20 seconds would overflow timedelta. Either would turn a 429 into a plain exception.
    result = retry_after(response(429, headers=[(b"Retry-After", header)]))
    assert result is None or result <= timedelta(hours=1)

"""The classifier: each system's envelope, the fallback order, and the ApplicationError."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment

from activities import error_system
from activities.envelopes import Envelope, read_envelope
from activities.errors import (
    ErrorDetails,
    application_error,
    classification,
    classify,
    parse_error,
    raise_for_answer,
    raise_for_transport,
    retry_after,
    scrub,
)
from onboarding_client.contract.errors import CATALOG_CLASSES, UNKNOWN_ERROR_ATTEMPTS, ErrorClass
from workflows.reactions import WORKFLOW_HANDLED

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
    assert parse_error(error_system(system), answer) == ErrorDetails(
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
    assert classify(error_system(system), code, http_status) is expected


# --- application_error ----------------------------------------------------------------

RAISED = [
    # (details, type, non_retryable, benign)
    (ErrorDetails(PROCESS, "99999", "falha interna", 500), "transient", False, False),
    (ErrorDetails(PROCESS, None, "Too Many Requests", 429), "rate_limited", False, False),
    # The workflow, not the activity's retry policy, gets a new token and calls again.
    (ErrorDetails(AUTH, "1.2.4", "Falha 1.2.4", 401), "token_expired", True, False),
    (ErrorDetails(PROCESS, "20507", "CPF inválido", 400), "invalid_request", True, True),
    (ErrorDetails(PROCESS, "10507", "capture expired", 400), "recapture", True, True),
    (ErrorDetails(AUTH, "1.2.5", "Falha 1.2.5", 401), "configuration", True, False),
    (ErrorDetails(AUTH, "1.2.18", "Falha 1.2.18", 401), "locked", True, False),
    (ErrorDetails(PROCESS, "50001", "not found", 404), "not_found", True, False),
    (ErrorDetails(PROCESS, None, "Gone", 410), "gone", True, True),
    (ErrorDetails(PROCESS, "20023", "no process id", 400), "permanent", True, False),
    # A record holds the CPF: the account step adopts it; nothing went wrong.
    (ErrorDetails("identity-cloud", "361", "not unique", 200), "already_exists", True, True),
]


def test_every_class_has_a_case_here() -> None:
    assert {case[1] for case in RAISED} == CATALOG_CLASSES


@pytest.mark.parametrize(("details", "error_type", "non_retryable", "benign"), RAISED)
def test_application_error(
    details: ErrorDetails, error_type: str, non_retryable: bool, benign: bool
) -> None:
    error = application_error(error_system(details.system), details)

    assert isinstance(error, ApplicationError)
    assert error.type == error_type
    # The workflow's retry policy, the one place that says it, retries only some classes.
    assert (error_type in WORKFLOW_HANDLED) is non_retryable
    assert not error.non_retryable
    assert (error.category == ApplicationErrorCategory.BENIGN) is benign
    found = error.details[0]
    assert {key: found[key] for key in ("system", "code", "message", "http_status")} == {
        "system": details.system,
        "code": details.code,
        "message": details.message,
        "http_status": details.http_status,
    }
    assert found["class"] == error_type
    assert details.message in error.message
    assert str(details.code or details.http_status) in error.message


def test_raise_for_unico_carries_retry_after_as_the_next_retry_delay() -> None:
    answer = response(
        429,
        {"error": {"code": 12345, "description": "slow down"}},
        headers={"Retry-After": "3"},
    )
    with pytest.raises(ApplicationError) as caught:
        raise_for_answer(error_system(PROCESS), answer)

    error = caught.value
    assert error.type == "rate_limited"
    assert not error.non_retryable
    assert error.next_retry_delay == timedelta(seconds=3)
    assert error.details[0]["code"] == "12345"
    assert error.details[0]["http_status"] == 429


def test_raise_for_unico_without_retry_after_leaves_the_delay_to_the_policy() -> None:
    with pytest.raises(ApplicationError) as caught:
        raise_for_answer(error_system(PROCESS), response(500))
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


# --- every system's envelope, the catch-alls, the details -------------------------------

ENVELOPES = [
    # (system, body, expected envelope)
    ("unico-auth",
     {"error": "server_error", "error_description": "Falha na autenticação 1.2.18"},
     Envelope("1.2.18", "Falha na autenticação 1.2.18")),
    ("unico-auth",
     {"error": "server_error", "error_description": "Falha na autenticação 1.0.14."},
     Envelope("1.0.14", "Falha na autenticação 1.0.14.")),
    ("unico-auth",
     {"error": "invalid_request", "error_description": "assertion is missing"},
     Envelope(None, "assertion is missing")),
    ("unico-auth", {"error": "server_error"}, Envelope(None, "server_error")),
    ("unico-process",
     {"error": {"code": 20507, "description": "O parâmetro subject.code é inválido."}},
     Envelope("20507", "O parâmetro subject.code é inválido.")),
    ("unico-process",
     {"error": {"code": "10502", "message": "O token informado está expirado."}},
     Envelope("10502", "O token informado está expirado.")),
    ("unico-process", {"error": {"description": "Too Many Requests"}},
     Envelope(None, "Too Many Requests")),
    ("unico-process", {"error": "Forbidden"}, Envelope(None, "Forbidden")),
    ("unico-process", {"error": {"code": True}}, Envelope(None, "")),
    ("identity-cloud",
     {"stat": "error", "code": 414, "error": "access_token_expired",
      "error_description": "access token expired", "request_token": "a1b2c3d4e5f6g7h8"},
     Envelope("414", "access token expired", "a1b2c3d4e5f6g7h8", failed=True)),
    ("identity-cloud",
     {"code": "510", "error": "api_limit_error", "request_token": "zzzzyyyyxxxxwwww"},
     Envelope("510", "api_limit_error", "zzzzyyyyxxxxwwww")),
    ("identity-cloud", {"stat": "ok", "result": {}}, Envelope(None, "")),
    ("mfa", {"errorCode": "invalid_otp", "message": "Provided otp code was not valid",
             "statusCode": 400},
     Envelope("invalid_otp", "Provided otp code was not valid")),
    ("mfa", {"error": "too_many_sms", "error_description": "You have exceeded the SMSs"},
     Envelope("too_many_sms", "You have exceeded the SMSs")),
    ("mfa", ["not", "an", "object"], Envelope(None, "")),
]  # fmt: skip


@pytest.mark.parametrize(("system", "body", "expected"), ENVELOPES)
def test_each_systems_envelope(system: str, body: Any, expected: Envelope) -> None:
    assert read_envelope(error_system(system).read_envelope, body) == expected


def test_an_unknown_system_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown error system"):
        error_system("acme")


FALLBACKS = [
    # (system, code, HTTP status, class, rule, covered_by)
    ("identity-cloud", "215", 200, ErrorClass.INVALID_REQUEST, "catch_all", "210"),
    ("identity-cloud", "305", 200, ErrorClass.TRANSIENT, "catch_all", "300"),
    ("identity-cloud", "327", 200, ErrorClass.PERMANENT, "catch_all", "320"),
    ("identity-cloud", "350", 200, ErrorClass.INVALID_REQUEST, "catch_all", "340-359"),
    ("identity-cloud", "372", 200, ErrorClass.INVALID_REQUEST, "catch_all", "360-379"),
    ("identity-cloud", "227", 200, ErrorClass.INVALID_REQUEST, "catch_all", "200"),
    ("identity-cloud", "419", 200, ErrorClass.CONFIGURATION, "catch_all", "400-499"),
    ("identity-cloud", "431", 200, ErrorClass.CONFIGURATION, "catch_all", "400-499"),
    ("identity-cloud", "515", 200, ErrorClass.RATE_LIMITED, "catch_all", "510"),
    ("identity-cloud", "777", 200, ErrorClass.TRANSIENT, "catch_all", "500-999"),
    ("identity-cloud", "1000", 429, ErrorClass.RATE_LIMITED, "http_status", None),
    ("unico-process", "20999", 400, ErrorClass.INVALID_REQUEST, "http_status", None),
    ("unico-process", "12345", 401, ErrorClass.CONFIGURATION, "http_status", None),
    ("unico-process", None, 410, ErrorClass.GONE, "http_status", None),
    ("unico-process", None, 404, ErrorClass.NOT_FOUND, "http_status", None),
    ("unico-process", None, 503, ErrorClass.TRANSIENT, "http_status", None),
    ("unico-process", None, 429, ErrorClass.RATE_LIMITED, "http_status", None),
    ("unico-process", "12345", 418, ErrorClass.TRANSIENT, "fallback", None),
    ("unico-process", None, 200, ErrorClass.TRANSIENT, "fallback", None),
    ("unico-auth", "1.9.9", 401, ErrorClass.CONFIGURATION, "http_status", None),
    ("unico-auth", None, 400, ErrorClass.CONFIGURATION, "http_status", None),
    ("unico-auth", "1.9.9", None, ErrorClass.TRANSIENT, "fallback", None),
    ("mfa", "brand_new_code", 409, ErrorClass.PERMANENT, "http_status", None),
    ("mfa", "brand_new_code", 302, ErrorClass.TRANSIENT, "fallback", None),
]  # fmt: skip


@pytest.mark.parametrize(("system", "code", "status", "cls", "rule", "covered_by"), FALLBACKS)
def test_unknown_codes_fall_back_in_order(system, code, status, cls, rule, covered_by) -> None:
    found = classification(error_system(system), code, status)
    assert (found.error_class, found.rule) == (cls, rule)
    if covered_by is not None:
        assert found.covered_by == covered_by


def test_an_unlisted_code_takes_the_narrowest_rule() -> None:
    # 365: the listed 360 covers 360-369, narrower than the seed's range 360-379.
    assert classification(error_system("identity-cloud"), "365", 200).covered_by == "360"
    # 419: neither 410 nor 400 is listed, so the range 400-499 decides, not its neighbours
    # 415-417 (recapture).
    assert classification(error_system("identity-cloud"), "419", 200).covered_by == "400-499"


def error_for(system: str, resp: httpx.Response) -> ApplicationError:
    errors = error_system(system)
    return application_error(errors, parse_error(errors, resp), next_retry_delay=retry_after(resp))


def test_the_application_error_carries_everything_support_needs() -> None:
    body = {"stat": "error", "code": 510, "error": "api_limit_error",
            "error_description": "rate limit", "request_token": "abcdefgh12345678"}  # fmt: skip
    err = error_for("identity-cloud", response(200, body))
    assert err.type == "rate_limited" and not err.non_retryable
    assert err.details[0] == {
        "system": "identity-cloud",
        "code": "510",
        "message": "rate limit",
        "http_status": 200,
        "request_token": "abcdefgh12345678",
        "class": "rate_limited",
        "rule": "code",
        "name": "api_limit_error",
    }
    assert err.message == "identity-cloud 510: rate limit"


def test_messages_lose_what_looks_personal() -> None:
    words = "CPF 123.456.789-09 of maria@example.com, +55 11 98765-4321"
    body = {"error": {"code": 20507, "description": words}}
    err = error_for("unico-process", response(400, body))
    text = json.dumps(err.details[0]) + err.message
    for personal in ("123.456.789-09", "maria@example.com", "98765-4321"):
        assert personal not in text
    assert "[redacted]" in text
    assert scrub("12345678909 x") == "[redacted] x"
    assert len(scrub("a" * 1000)) == 300


async def test_an_unexplained_error_is_retried_a_bounded_number_of_times() -> None:
    unexplained = response(418, {"error": {"code": 12345}})
    env = ActivityEnvironment()

    async def attempt(number: int) -> ApplicationError:
        env.info = dataclasses.replace(env.info, attempt=number)
        return await env.run(_error_in_activity, unexplained)

    assert not (await attempt(1)).non_retryable
    assert not (await attempt(UNKNOWN_ERROR_ATTEMPTS - 1)).non_retryable
    last = await attempt(UNKNOWN_ERROR_ATTEMPTS)
    assert last.non_retryable and last.type == "transient"
    assert last.details[0]["rule"] == "fallback"
    # A known transient error is not bounded by attempts: the deadline bounds it.
    known = response(500, {"error": {"code": 99999}})
    env.info = dataclasses.replace(env.info, attempt=UNKNOWN_ERROR_ATTEMPTS * 3)
    assert not (await env.run(_error_in_activity, known)).non_retryable


async def _error_in_activity(resp: httpx.Response) -> ApplicationError:
    return error_for("unico-process", resp)


POST = httpx.Request("POST", "http://127.0.0.1:1/processes/v1")


@pytest.mark.parametrize(
    ("exc", "idempotent", "expected_type", "non_retryable"),
    [
        (httpx.ConnectError("refused", request=POST), False, "transient", False),
        (httpx.ConnectTimeout("slow", request=POST), False, "transient", False),
        (httpx.PoolTimeout("busy", request=POST), False, "transient", False),
        (httpx.ReadTimeout("timed out", request=POST), True, "transient", False),
        (httpx.ReadTimeout("timed out", request=POST), False, ErrorClass.AMBIGUOUS_CREATE, True),
        (
            httpx.RemoteProtocolError("closed", request=POST),
            False,
            ErrorClass.AMBIGUOUS_CREATE,
            True,
        ),
        (httpx.ReadError("reset", request=POST), False, ErrorClass.AMBIGUOUS_CREATE, True),
        (httpx.WriteError("broken", request=POST), False, ErrorClass.AMBIGUOUS_CREATE, True),
    ],
)
def test_no_answer_is_transient_unless_a_create_may_have_arrived(
    exc: httpx.TransportError, idempotent: bool, expected_type: str, non_retryable: bool
) -> None:
    with pytest.raises(ApplicationError) as caught:
        raise_for_transport("unico-process", exc, idempotent=idempotent)
    assert caught.value.type == expected_type
    assert (expected_type in WORKFLOW_HANDLED) is non_retryable
    assert caught.value.details[0]["ambiguous"] is (expected_type == ErrorClass.AMBIGUOUS_CREATE)
    assert caught.value.details[0]["message"].startswith(type(exc).__name__)

"""The classifier: each system's envelope, the fallback order, and the ApplicationError."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.envelopes import Envelope, read_envelope
from activities.errors import (
    application_error,
    classification,
    failed_call,
    parse_error,
    raise_for_transport,
    retry_after,
    scrub,
)
from workflows.models import AMBIGUOUS_CREATE, UNKNOWN_ERROR_ATTEMPTS, ErrorClass


def response(
    status: int, body: Any = None, raw: bytes | None = None, retry: str | None = None
) -> httpx.Response:
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.Response(status, content=content, headers={"Retry-After": retry} if retry else {})


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
    assert read_envelope(system, body) == expected


def test_an_unknown_system_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown error system"):
        read_envelope("acme", {})
    with pytest.raises(ValueError, match="unknown error system"):
        classification("acme", "1", 500)


def test_parse_error_reads_any_answer() -> None:
    details = parse_error("unico-process", response(502, raw=b"<html>Bad Gateway</html>"))
    assert (details.code, details.message, details.http_status) == (None, "Bad Gateway", 502)
    details = parse_error("identity-cloud", response(200, {"stat": "error", "code": 213}))
    assert (details.code, details.http_status) == ("213", 200)


def test_identity_cloud_failures_are_told_by_the_body_not_the_status() -> None:
    failed = {"stat": "error", "code": 213, "error": "password_incorrect", "request_token": "t"}
    details = failed_call("identity-cloud", response(200, failed))
    assert details is not None and (details.code, details.request_token) == ("213", "t")
    assert failed_call("identity-cloud", response(200, {"stat": "ok"})) is None
    assert failed_call("unico-process", response(200, {"id": "p", "status": 3})) is None
    assert failed_call("mfa", response(429, {"errorCode": "too_many_pn"})) is not None


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
    found = classification(system, code, status)
    assert (found.error_class, found.rule) == (cls, rule)
    if covered_by is not None:
        assert found.covered_by == covered_by


def test_an_unlisted_code_takes_the_narrowest_rule() -> None:
    # 365: the listed 360 covers 360-369, narrower than the seed's range 360-379.
    assert classification("identity-cloud", "365", 200).covered_by == "360"
    # 419: neither 410 nor 400 is listed, so the range 400-499 decides, not its neighbours
    # 415-417 (recapture).
    assert classification("identity-cloud", "419", 200).covered_by == "400-499"


def error_for(system: str, resp: httpx.Response) -> ApplicationError:
    return application_error(parse_error(system, resp), next_retry_delay=retry_after(resp))


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


ONE_PER_CLASS = {
    # class: (system, HTTP status, body)
    ErrorClass.TRANSIENT: ("unico-process", 500, {"error": {"code": 99999}}),
    ErrorClass.RATE_LIMITED: ("unico-process", 429, {"error": {}}),
    ErrorClass.TOKEN_EXPIRED: ("unico-process", 401, {"error": {"code": 10502}}),
    ErrorClass.INVALID_REQUEST: ("unico-process", 400, {"error": {"code": 20507}}),
    ErrorClass.RECAPTURE: ("unico-process", 400, {"error": {"code": 10507}}),
    ErrorClass.CONFIGURATION: ("unico-process", 403, {"error": {"code": 10201}}),
    ErrorClass.LOCKED: ("unico-auth", 401, {"error_description": "Falha na autenticação 1.2.18"}),
    ErrorClass.NOT_FOUND: ("unico-process", 404, {"error": {"code": 50001}}),
    ErrorClass.GONE: ("unico-process", 410, {"id": "p", "status": 5}),
    ErrorClass.PERMANENT: ("unico-process", 400, {"error": {"code": 20023}}),
}


def test_every_class_has_a_case_here() -> None:
    assert set(ONE_PER_CLASS) == set(ErrorClass)


@pytest.mark.parametrize("cls", ONE_PER_CLASS)
def test_only_transient_and_rate_limited_are_retried_by_the_activity(cls: ErrorClass) -> None:
    system, status, body = ONE_PER_CLASS[cls]
    err = error_for(system, response(status, body))
    assert err.type == cls.value
    assert err.non_retryable is (cls not in {ErrorClass.TRANSIENT, ErrorClass.RATE_LIMITED})
    assert err.details[0]["http_status"] == status


def test_rate_limited_honours_retry_after() -> None:
    err = error_for("unico-process", response(429, {"error": {}}, retry="7"))
    assert err.type == "rate_limited" and err.next_retry_delay == timedelta(seconds=7)


def test_retry_after_as_seconds_or_a_date() -> None:
    assert retry_after(response(429, {}, retry="2.5")) == timedelta(seconds=2.5)
    later = datetime.now(UTC) + timedelta(seconds=30)
    delay = retry_after(response(429, {}, retry=format_datetime(later, usegmt=True)))
    assert delay is not None and timedelta(seconds=28) <= delay <= timedelta(seconds=30)
    assert retry_after(response(429, {}, retry="soon")) is None
    assert retry_after(response(429, {})) is None


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


REQUEST = httpx.Request("POST", "http://127.0.0.1:1/processes/v1")


@pytest.mark.parametrize(
    ("exc", "idempotent", "expected_type", "non_retryable"),
    [
        (httpx.ConnectError("refused", request=REQUEST), False, "transient", False),
        (httpx.ConnectTimeout("slow", request=REQUEST), False, "transient", False),
        (httpx.PoolTimeout("busy", request=REQUEST), False, "transient", False),
        (httpx.ReadTimeout("timed out", request=REQUEST), True, "transient", False),
        (httpx.ReadTimeout("timed out", request=REQUEST), False, AMBIGUOUS_CREATE, True),
        (httpx.RemoteProtocolError("closed", request=REQUEST), False, AMBIGUOUS_CREATE, True),
        (httpx.ReadError("reset", request=REQUEST), False, AMBIGUOUS_CREATE, True),
        (httpx.WriteError("broken", request=REQUEST), False, AMBIGUOUS_CREATE, True),
    ],
)
def test_no_answer_is_transient_unless_a_create_may_have_arrived(
    exc: httpx.TransportError, idempotent: bool, expected_type: str, non_retryable: bool
) -> None:
    with pytest.raises(ApplicationError) as caught:
        raise_for_transport("unico-process", exc, idempotent=idempotent)
    assert (caught.value.type, caught.value.non_retryable) == (expected_type, non_retryable)
    assert caught.value.details[0]["ambiguous"] is (expected_type == AMBIGUOUS_CREATE)
    assert caught.value.details[0]["message"].startswith(type(exc).__name__)

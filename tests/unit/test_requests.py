"""Request parsing: every malformed input becomes Unico's refusal code, never an exception."""

from __future__ import annotations

import pytest

from onboarding_client.contract.cpf import is_valid_cpf, normalize_cpf
from onboarding_client.contract.request import OnboardingRequest, RetrySchedule
from workflows.requests import parse_request

SCENARIO_CPFS = [
    "12345678909",
    "00000000191",
    "00000000272",
    "00000000353",
    "00000000434",
    "00000000515",
    "00000000604",
    "00000000787",
    "00000000868",
    "00000000949",
    "00000001082",
    "00000001163",
]


@pytest.mark.parametrize("cpf", SCENARIO_CPFS)
def test_scenario_cpfs_are_valid(cpf):
    assert is_valid_cpf(cpf)


@pytest.mark.parametrize(
    "cpf",
    [
        "12345678900",
        "00000000000",
        "11111111111",
        "1234567890",
        "123456789099",
        "abcdefghijk",
        "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff10\uff19",  # full-width
        "",
    ],
)
def test_invalid_cpfs(cpf):
    assert not is_valid_cpf(cpf)


def test_normalize_cpf():
    assert normalize_cpf("123.456.789-09") == "12345678909"


def good(**overrides):
    raw = {
        "request_id": "r-1",
        "subject": {"code": "123.456.789-09", "name": "Maria Silva"},
        "selfie_ref": "local:abc",
    }
    raw.update(overrides)
    return raw


def test_good_request_is_normalised():
    request = parse_request(good())
    assert isinstance(request, OnboardingRequest)
    assert request.subject.code == "12345678909"
    assert request.use_case == "Onboarding"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not an object", "unico.20003"),
        (None, "unico.20003"),
        ([1, 2], "unico.20003"),
        ({k: v for k, v in good().items() if k != "subject"}, "unico.20004"),
        (good(subject={"name": "Maria"}), "unico.20005"),
        (good(subject={"code": "12345678909"}), "unico.20006"),
        (good(subject={}), "unico.20005"),
        ({k: v for k, v in good().items() if k != "selfie_ref"}, "unico.20009"),
        (good(subject={"code": "12345678900", "name": "Maria"}), "unico.20507"),
        (good(subject={"code": "12345678909", "name": "   "}), "unico.20006"),
        (good(subject="12345678909"), "unico.20003"),
        (good(request_id=""), "unico.20003"),
        (good(request_id="has spaces"), "unico.20003"),
        ({k: v for k, v in good().items() if k != "request_id"}, "unico.20003"),
        (good(subject={"code": 12345678909, "name": "Maria"}), "unico.20507"),
        (good(subject={"code": " ", "name": "Maria"}), "unico.20005"),
        (good(subject={"code": "12345678909", "name": "M" * 201}), "unico.20003"),
        (good(subject={"code": "12345678909", "name": "Maria\x00Silva"}), "unico.20003"),
        (good(subject={"code": "12345678909", "name": "12345678909"}), "unico.20003"),
        (good(subject={"code": "12345678909", "name": "Maria", "email": "maria"}), "unico.20003"),
        (
            good(subject={"code": "12345678909", "name": "Maria", "email": "a@b"}),
            "unico.20003",
        ),
        (
            good(subject={"code": "12345678909", "name": "Maria", "email": "m@x.com" + "m" * 250}),
            "unico.20003",
        ),
        (good(subject={"code": "12345678909", "name": "Maria", "phone": "12345"}), "unico.20003"),
        (
            good(subject={"code": "12345678909", "name": "Maria", "phone": "55 19 abc 7070"}),
            "unico.20003",
        ),
        (good(request_id="order-123.456.789-09"), "unico.20003"),
        (good(request_id="12345678909"), "unico.20003"),
        (good(use_case=""), "unico.20003"),
        (good(subsidiary_id="../x"), "unico.20003"),
        (good(selfie_ref="x" * 257), "unico.20003"),
        (good(options={"deadline_seconds": 1e308}), "unico.20003"),
        (good(options={"poll_initial_seconds": 0}), "unico.20003"),
        (good(options={"max_process_attempts": 1000}), "unico.20003"),
        (good(options={"bands": {"approve_min": 10**30}}), "unico.20003"),
    ],
)
def test_refusals(raw, code):
    reason = parse_request(raw)
    assert not isinstance(reason, OnboardingRequest)
    assert reason.code == code
    assert "12345678909" not in reason.message and "Maria" not in reason.message


def test_contact_fields_are_normalised():
    request = parse_request(
        good(
            subject={
                "code": " 123.456.789-09 ",
                "name": "  Maria   da  Silva ",
                "email": " maria.silva+kyc@example.com.br ",
                "phone": "+55 (19) 97255-7070",
            }
        )
    )
    assert isinstance(request, OnboardingRequest)
    assert request.subject.model_dump() == {
        "code": "12345678909",
        "name": "Maria da Silva",
        "email": "maria.silva+kyc@example.com.br",
        "phone": "5519972557070",
    }


@pytest.mark.parametrize("phone", ["1972557070", "19972557070", "551972557070", "(19) 3255-7070"])
def test_phone_shapes_unico_takes(phone):
    raw = good(subject={"code": "12345678909", "name": "Maria", "phone": phone})
    assert isinstance(parse_request(raw), OnboardingRequest)


def _with_options(**options: object) -> dict[str, object]:
    return {
        "request_id": "r-1",
        "subject": {"code": "12345678909", "name": "Maria Silva"},
        "selfie_ref": "local:" + "0" * 32,
        "options": options,
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mfa": {"enrol": True}}, "options.mfa.enrol: Extra inputs are not permitted"),
        ({"deadline_seconds": True}, "options.deadline_seconds: Input should be a valid number"),
        ({"poll_max_seconds": "5"}, "options.poll_max_seconds: Input should be a valid number"),
        ({"review": {"enabled": 1}}, "options.review.enabled: Input should be a valid boolean"),
        (
            {"configuration_retry": {"initial_seconds": 60, "max_seconds": 1800, "backoff": 1e300}},
            "options.configuration_retry.backoff must be from 1 to 10",
        ),
        (
            {"locked_retry": {"initial_seconds": 60, "max_seconds": 1e9}},
            "options.locked_retry.max_seconds must be from 1 to 604800",
        ),
        # A key may be anything, a CPF too: the message names it only if it could be a name.
        ({"123.456.789-09": 1}, "options.<field>: Extra inputs are not permitted"),
    ],
)
def test_an_option_refused_is_named_with_its_rule(options, message):
    reason = parse_request(_with_options(**options))
    assert not isinstance(reason, OnboardingRequest)
    assert (reason.code, reason.message) == ("unico.20003", message)


@pytest.mark.parametrize("seconds", [None, 0, 3600])
def test_a_webhook_wait_of_none_or_0_to_3600_seconds_is_taken(seconds):
    request = parse_request(_with_options(webhook_wait_seconds=seconds))
    assert isinstance(request, OnboardingRequest)
    assert request.options.webhook_wait_seconds == seconds


def test_a_webhook_wait_over_3600_seconds_is_refused_with_its_bound():
    reason = parse_request(_with_options(webhook_wait_seconds=3601))
    assert not isinstance(reason, OnboardingRequest)
    assert (reason.code, reason.message) == (
        "unico.20003",
        "options.webhook_wait_seconds must be from 0 to 3600",
    )


def test_a_wait_schedule_saturates_however_many_retries():
    schedule = RetrySchedule(initial_seconds=60, max_seconds=1800)
    assert [schedule.delay(n) for n in (0, 1, 4, 5)] == [60, 120, 960, 1800]
    # 1,024 waits overflowed `initial * backoff**retry` before; a million do not now.
    assert schedule.delay(1024) == schedule.delay(10**6) == 1800
    steep = RetrySchedule(initial_seconds=1, max_seconds=1e308, backoff=1e300)
    assert steep.delay(2) == 1e308

"""Request parsing: every malformed input becomes Unico's refusal code, never an exception."""

from __future__ import annotations

import pytest

from workflows.cpf import is_valid_cpf, normalize_cpf
from workflows.models import OnboardingRequest
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
    ],
)
def test_refusals(raw, code):
    reason = parse_request(raw)
    assert not isinstance(reason, OnboardingRequest)
    assert reason.code == code
    assert "12345678909" not in reason.message and "Maria" not in reason.message

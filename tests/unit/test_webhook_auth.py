"""Webhook credentials: each scheme Unico offers, what it accepts, and what it refuses."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from onboarding.gateway import service as gateway
from onboarding.gateway.webhook_auth import WebhookAuth, webhook_auth
from onboarding.runtime.errors import SettingsError
from onboarding.runtime.settings import Settings
from tests.support import TEST_KEYS


def basic(credential: str) -> str:
    return "Basic " + base64.b64encode(credential.encode()).decode()


def auth_for(**settings: Any) -> WebhookAuth:
    configured = webhook_auth(Settings.model_validate(settings))
    assert configured is not None
    return configured


BASIC = {"webhook_auth": "basic", "webhook_username": "unico", "webhook_password": "s3cret:x"}
API_KEY = {"webhook_auth": "api-key", "webhook_api_key": "k-123", "webhook_api_key_header": "X-Key"}
BEARER = {"webhook_auth": "bearer", "webhook_bearer_token": "t-456"}

CASES = [
    (BASIC, {"authorization": basic("unico:s3cret:x")}, True),
    (BASIC, {"authorization": "basic " + basic("unico:s3cret:x")[6:]}, True),
    (BASIC, {"authorization": basic("unico:wrong")}, False),
    (BASIC, {"authorization": basic("other:s3cret:x")}, False),
    (BASIC, {"authorization": "Basic not*base64"}, False),
    (BASIC, {"authorization": "Bearer s3cret:x"}, False),
    (BASIC, {}, False),
    (API_KEY, {"x-key": "k-123"}, True),
    (API_KEY, {"x-key": "k-12"}, False),
    (API_KEY, {"authorization": "k-123"}, False),
    (API_KEY, {}, False),
    (BEARER, {"authorization": "Bearer t-456"}, True),
    (BEARER, {"authorization": "bearer  t-456 "}, True),
    (BEARER, {"authorization": "Bearer t-4567"}, False),
    (BEARER, {"authorization": "t-456"}, False),
    (BEARER, {"authorization": basic("t-456")}, False),
    ({"webhook_auth": "none"}, {}, True),
]


@pytest.mark.parametrize(("settings", "headers", "accepted"), CASES)
def test_credentials(settings: dict[str, Any], headers: dict[str, str], accepted: bool) -> None:
    assert auth_for(**settings).accepts(headers) is accepted


def test_off_serves_no_webhook() -> None:
    assert webhook_auth(Settings()) is None


@pytest.mark.parametrize(
    "settings",
    [
        {"webhook_auth": "basic", "webhook_username": "unico"},
        {"webhook_auth": "basic", "webhook_password": "p"},
        {"webhook_auth": "basic", "webhook_username": "a:b", "webhook_password": "p"},
        {"webhook_auth": "api-key"},
        {"webhook_auth": "api-key", "webhook_api_key": ""},
        {"webhook_auth": "bearer"},
    ],
)
def test_a_scheme_without_its_credentials_is_a_settings_error(settings: dict[str, Any]) -> None:
    with pytest.raises(SettingsError, match="WEBHOOK_"):
        webhook_auth(Settings.model_validate(settings))


def test_secrets_stay_out_of_the_settings_repr() -> None:
    settings = Settings.model_validate({**BASIC, **BEARER, "webhook_api_key": "k-123"})
    shown = repr(settings) + str(settings)
    assert not [secret for secret in ("s3cret", "t-456", "k-123") if secret in shown]


def test_challenges_name_the_scheme() -> None:
    assert auth_for(**BASIC).challenge == {"WWW-Authenticate": 'Basic realm="unico-webhook"'}
    assert auth_for(**BEARER).challenge["WWW-Authenticate"].startswith("Bearer ")
    assert auth_for(**API_KEY).challenge == {}


def test_the_gateway_refuses_to_start_without_the_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ONBOARDING_ENCRYPTION_KEYS", TEST_KEYS)  # past the key check
    monkeypatch.setenv("WEBHOOK_AUTH", "bearer")
    monkeypatch.setenv("GATEWAY_API_TOKEN", "t")
    assert gateway.main() == 2
    assert capsys.readouterr().err == (
        "onboarding.gateway: WEBHOOK_AUTH=bearer needs WEBHOOK_BEARER_TOKEN\n"
    )

"""The account step's parts that need no server: the attribute mapping, the API client's
credentials, and what `onboarding explain` says of Identity Cloud's codes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from activities.client_credentials import ClientCredentials, CredentialsUnavailable
from activities.identity_cloud.mapping import DEFAULT_MAPPING, AttributeMapping, MappingError
from contracts.account import RegisterAccountInput
from onboarding.cli.explain import explain
from onboarding_client.contract.request import Subject

PERSON = RegisterAccountInput(
    request_id="order-1",
    subject=Subject(code="12345678909", name="Maria Silva", email="maria@example.com"),
)


def test_the_default_mapping_sends_each_fact_the_request_has() -> None:
    mapping = AttributeMapping.parse(json.dumps(DEFAULT_MAPPING))
    assert mapping.attributes(PERSON) == {
        "cpf": "12345678909",
        "displayName": "Maria Silva",
        "email": "maria@example.com",
        "onboardingRequestId": "order-1",
    }, "no phone given: none sent"
    assert (mapping.key_attribute, mapping.provenance_attribute) == ("cpf", "onboardingRequestId")


def test_a_dotted_path_is_a_nested_attribute_and_null_leaves_a_fact_out() -> None:
    mapping = AttributeMapping.parse(
        json.dumps(
            {
                "cpf": "personalData.cpf",
                "name": "personalData.fullName",
                "email": None,
                "request_id": "provenance.onboarding",
            }
        )
    )
    record = mapping.attributes(PERSON)
    assert record == {
        "personalData": {"cpf": "12345678909", "fullName": "Maria Silva"},
        "provenance": {"onboarding": "order-1"},
    }
    assert mapping.provenance(record) == "order-1"
    assert mapping.provenance({"provenance": "flat"}) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", "not JSON"),
        ("[]", "JSON object"),
        ('{"cpf": "cpf"}', "must map request_id"),
        ('{"request_id": "r"}', "must map cpf"),
        ('{"cpf": "cpf", "request_id": "r", "birthday": "b"}', "unknown ['birthday']"),
        ('{"cpf": "cpf", "request_id": "r", "name": "bad path!"}', "name must be an attribute"),
        ('{"cpf": "cpf", "request_id": "cpf"}', "two facts to one attribute"),
        ('{"cpf": 7, "request_id": "r"}', "cpf must be an attribute"),
    ],
)
def test_a_wrong_mapping_is_one_line(text: str, words: str) -> None:
    with pytest.raises(MappingError) as wrong:
        AttributeMapping.parse(text)
    assert words in str(wrong.value)
    assert "IDENTITY_CLOUD_ATTRIBUTES" in str(wrong.value)


def basic(header: str) -> str:
    assert header.startswith("Basic ")
    return base64.b64decode(header.removeprefix("Basic ")).decode()


def test_credentials_are_basic_auth() -> None:
    assert basic(ClientCredentials("client", "s3cret").authorization()) == "client:s3cret"
    with pytest.raises(CredentialsUnavailable, match="IDENTITY_CLOUD_CLIENT_SECRET"):
        ClientCredentials("client").authorization()


def test_a_secret_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("first\n")
    credentials = ClientCredentials("client", secret_file=secret)
    assert basic(credentials.authorization()) == "client:first"
    secret.write_text("the-rotated-one\n")
    assert basic(credentials.authorization()) == "client:the-rotated-one"
    secret.unlink()
    with pytest.raises(CredentialsUnavailable, match="IDENTITY_CLOUD_CLIENT_SECRET_FILE"):
        credentials.authorization()


@pytest.mark.parametrize(
    ("code", "error_class", "does"),
    [
        ("361", "already_exists", "adopts it"),
        ("540", "transient", "the step ends failed"),
        ("510", "rate_limited", "Retry-After"),
        ("402", "configuration", "blocked_configuration"),
        ("363", "invalid_request", "the outcome stays approved"),
    ],
)
def test_explain_says_what_the_account_step_does(code: str, error_class: str, does: str) -> None:
    [answer] = explain(code, "identity-cloud")
    assert answer.error_class.value == error_class
    assert does in answer.worker_does
    assert answer.as_json()["outcome_when_exhausted"] == "approved"

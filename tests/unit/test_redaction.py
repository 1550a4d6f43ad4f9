"""Log redaction: personal data and secrets never leave the JSON handler, wherever they are."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from onboarding.runtime.logs import configure_logging, json_handler
from onboarding.runtime.redaction import redact_text, redact_value

CPF = "12345678909"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
IMAGE_B64 = "/9j/4AAQSkZJRgABAQAAAQABAAD" + "A" * 200
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"cpf {CPF} refused", CPF),
        ("cpf 123.456.789-09 refused", "456.789"),
        ("mail maria.silva+kyc@example.com.br now", "maria.silva"),
        ("call +55 (19) 97255-7070 later", "97255"),
        ("call 5519972557070", "5519972557070"),
        ("call 1972557070.", "1972557070"),
        ("Authorization: Bearer abc.DEF-123_xyz", "abc.DEF"),
        (f"assertion {JWT}", JWT[:20]),
        (f"body {IMAGE_B64}", IMAGE_B64[:40]),
        (f"key:\n{PEM}\nend", "MIIEvQ"),
        ("{'code': '12345678909', 'name': 'Maria da Silva'}", "Maria"),
        ('{"name": "Jo\\"ao Souza", "x": 1}', "Souza"),
        ("grant_type=jwt&assertion=opaque-value&x=1", "opaque-value"),
        ("access_token=tok123 expires_in=3600", "tok123"),
        ("APIKEY: my-api-key", "my-api-key"),
    ],
)
def test_shapes_and_named_values_are_masked(text: str, secret: str) -> None:
    assert secret not in redact_text(text)
    assert "[redacted" in redact_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "worker polling task queue 'onboarding' at 127.0.0.1:7233",
        "process 80371b2a-3ac7-432e-866d-57fe37896ac6 status 3 score -50",
        "unico-process 20507: O parâmetro subject.code é inválido.",
        "onboarding-demo-20260101-120000-03 took 1.25s",
    ],
)
def test_ordinary_operational_text_is_left_alone(text: str) -> None:
    assert redact_text(text) == text


def test_structured_values_are_masked_by_key_and_by_shape() -> None:
    value = {
        "subject": {"code": CPF, "name": "Maria"},
        "name": "Maria",
        "process_id": "p-1",
        "attempt": 2,
        "notes": [f"cpf {CPF}", 12345678909],
    }
    assert redact_value(value) == {
        "subject": "[redacted]",
        "name": "[redacted]",
        "process_id": "p-1",
        "attempt": 2,
        "notes": ["cpf [redacted cpf]", "[redacted cpf]"],
    }


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("test.redaction")
    handler = json_handler(stream)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def test_the_json_handler_redacts_args_extras_and_tracebacks(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.info("creating for %s <%s>", CPF, "maria@example.com", extra={"email": "Maria S"})
    try:
        raise ValueError(f"bad subject {CPF} with token Bearer s3cr3t")
    except ValueError:
        logger.exception("failed", extra={"process_id": "p-9"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [
        "creating for [redacted cpf] <[redacted email]>",
        "failed",
    ]
    assert lines[0]["email"] == "[redacted]"
    assert lines[0]["logger"] == "test.redaction" and lines[0]["level"] == "INFO"
    assert lines[1]["process_id"] == "p-9"
    assert "ValueError" in lines[1]["exc"]
    output = stream.getvalue()
    for secret in (CPF, "maria@example.com", "Maria S", "s3cr3t"):
        assert secret not in output


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("DEBUG", True)])
def test_httpx_request_lines_only_at_debug(level: str, shown: bool) -> None:
    root = logging.getLogger()
    kept = list(root.handlers), root.level
    stream = io.StringIO()
    try:
        configure_logging(level, stream)
        logging.getLogger("httpx").info('HTTP Request: POST http://unico/processes/v1 "200 OK"')
        logging.getLogger("httpx").warning("a warning still shows")
        logging.getLogger("onboarding.worker").info("ours at INFO")
    finally:
        root.handlers[:] = kept[0]
        root.setLevel(kept[1])
        logging.getLogger("httpx").setLevel(logging.NOTSET)
    messages = [json.loads(line)["message"] for line in stream.getvalue().splitlines()]
    assert ("HTTP Request" in " ".join(messages)) is shown
    assert "a warning still shows" in messages and "ours at INFO" in messages

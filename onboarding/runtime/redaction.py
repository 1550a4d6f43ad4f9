"""Redaction of personal data and secrets in log records, wherever in the record they are.

Two nets. By shape, in any text: CPFs, e-mail addresses, phone numbers, bearer tokens,
JWTs, PEM keys and long base64 runs (images, keys). By name, for values that have no shape
(a person's name): a structured field or a `name=...` / `"name": "..."` pair whose key is a
known sensitive one. A name mentioned in free prose matches neither: code never writes one
there, and the workflow's own data reaches logs only as encrypted payloads.

`RedactionFilter` applies both to the message (after %-formatting), to every extra field,
and to the exception and stack text, so that a handler with it emits no personal data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

SENSITIVE_KEYS = frozenset(
    {
        "name",
        "nome",
        "email",
        "e_mail",
        "phone",
        "telefone",
        "cpf",
        "subject",
        "token",
        "access_token",
        "authorization",
        "assertion",
        "password",
        "secret",
        "api_key",
        "apikey",
        "private_key",
        "key",
        "imagebase64",
        "image_base64",
        "image",
        "selfie",
        # The MFA step's secrets: the person's code, their recovery code, Guardian's
        # transaction and ticket (sealed by the activities, but never logged either).
        "otp",
        "otp_code",
        "recovery_code",
        "transaction_token",
        "ticket",
        "ticket_id",
        "sealed",
    }
)
_KEY_ALTERNATION = "|".join(sorted(SENSITIVE_KEYS, key=len, reverse=True))

# Order matters: the specific shapes go before the general digit and blob rules.
_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"-----BEGIN [A-Z ]+-----.*?(?:-----END [A-Z ]+-----|$)", re.S),
        "[redacted pem]",
    ),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "[redacted jwt]"),
    (
        re.compile(
            rf"""(?ix)(["']?\b(?:{_KEY_ALTERNATION})\b["']?\s*[:=]\s*)
            ("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;&}}\])]+)"""
        ),
        r"\1[redacted]",
    ),
    (re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "[redacted email]"),
    (re.compile(r"(?<![\w.])\d{3}\.?\d{3}\.?\d{3}-?\d{2}(?!\w)"), "[redacted cpf]"),
    (  # [+CC] (DDD) 4-5 digits, 4 digits; separators optional. Ids such as
        # 20260101-120000-03 stay: a phone does not end next to a hyphen.
        re.compile(
            r"(?<![\w+-])(?:\+?\d{2}[\s.-]?)?\(?\d{2}\)?[\s.-]?\d{4,5}[\s.-]?\d{4}(?![\w-])"
        ),
        "[redacted phone]",
    ),
    (re.compile(r"[A-Za-z0-9+/_-]{80,}={0,2}"), "[redacted blob]"),
]

# Attributes every LogRecord has; anything else on a record came in through `extra`.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's copy of the message with terminal colours
}


def redact_text(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any, key: str | None = None) -> Any:
    """The value with personal data masked; containers are walked, other objects stringified."""
    if key is not None and key.lower() in SENSITIVE_KEYS and value not in (None, ""):
        return "[redacted]"
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return redact_text(str(value)) if isinstance(value, int) and value > 10**9 else value
    if isinstance(value, Mapping):
        return {str(k): redact_value(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item) for item in value]
    return redact_text(str(value))


class RedactionFilter(logging.Filter):
    """Rewrites each record in place; never drops one."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact_text(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        for key in set(vars(record)) - _STANDARD_ATTRIBUTES:
            setattr(record, key, redact_value(getattr(record, key), key))
        return True


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a record got through `extra` (for the JSON formatter)."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
    }

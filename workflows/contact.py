"""The subject's name, e-mail and phone: format rules and normalisation, pure.

Unico documents no format for them; these rules refuse what cannot be a person's contact
(and what would only carry an injection or a mistake) before any call, and send the rest in
the shape of Unico's own example (`"phone": "551972557070"`: digits only).
"""

from __future__ import annotations

import re
import unicodedata

NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path
EMAIL_LOCAL_MAX_LENGTH = 64
PHONE_DIGITS = range(10, 14)  # DDD + number (10-11), with the country code 55 (12-13)

_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_PHONE_PUNCTUATION = str.maketrans("", "", " ()-.+")
_SPACES = re.compile(r"\s+")


def normalize_name(value: str) -> str:
    return _SPACES.sub(" ", value).strip()


def name_problem(value: str) -> str | None:
    """Why `value` (normalised) cannot be a name, or None."""
    if len(value) > NAME_MAX_LENGTH:
        return f"is longer than {NAME_MAX_LENGTH} characters"
    if any(unicodedata.category(char)[0] == "C" for char in value):
        return "contains control or invisible characters"
    if not any(char.isalpha() for char in value):
        return "has no letters"
    return None


def is_valid_email(value: str) -> bool:
    local = value.rpartition("@")[0]
    return (
        len(value) <= EMAIL_MAX_LENGTH
        and len(local) <= EMAIL_LOCAL_MAX_LENGTH
        and _EMAIL.fullmatch(value) is not None
    )


def normalize_phone(value: str) -> str:
    """Drop the usual punctuation (+55 (19) 97255-7070) so that only digits reach Unico."""
    return value.translate(_PHONE_PUNCTUATION)


def is_valid_phone(digits: str) -> bool:
    return digits.isascii() and digits.isdigit() and len(digits) in PHONE_DIGITS

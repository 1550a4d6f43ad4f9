"""CPF (Brazilian taxpayer id) normalisation and check digits: pure, used before any call."""

from __future__ import annotations

_SEPARATORS = str.maketrans("", "", ".- ")


def normalize_cpf(value: str) -> str:
    """Drop the usual punctuation (123.456.789-09) so that only digits reach Unico."""
    return value.translate(_SEPARATORS)


def _check_digit(digits: str) -> int:
    weight = len(digits) + 1
    total = sum(int(d) * (weight - i) for i, d in enumerate(digits))
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def is_valid_cpf(value: str) -> bool:
    """True for 11 digits whose two check digits match (and not one digit repeated)."""
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        return False
    if value == value[0] * 11:
        return False
    first = _check_digit(value[:9])
    second = _check_digit(value[:9] + str(first))
    return value[9:] == f"{first}{second}"


def cpf_with_check_digits(first_nine: str) -> str:
    """The valid CPF that starts with these nine digits (for test people, never a real one)."""
    first = _check_digit(first_nine)
    return f"{first_nine}{first}{_check_digit(first_nine + str(first))}"


def request_id_exposes_cpf(request_id: str, cpf: str) -> bool:
    """Whether the request id (the workflow id, stored in clear) contains the CPF."""
    cpf = normalize_cpf(cpf)
    return is_valid_cpf(cpf) and cpf in normalize_cpf(request_id)

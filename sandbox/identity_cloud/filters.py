"""The part of `entity.find`'s filter language the sandbox speaks: equality clauses joined
by `and`, such as `cpf = '11144477735' and email = 'a@b.com'`.

A value is a single-quoted string (a quote inside doubled, `''`) or a whole number. Anything
else does not parse, and find answers 200 invalid_argument, as it does for a filter the
real service cannot read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CLAUSE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:'((?:[^']|'')*)'|(-?[0-9]+))\s*")
_AND = re.compile(r"and\b", re.IGNORECASE)


@dataclass(frozen=True)
class Clause:
    attribute: str
    value: str  # as text: a number compares with the text of the stored value


def parse_filter(text: str) -> list[Clause] | None:
    """The clauses, or None when the filter is not one the sandbox can read."""
    clauses: list[Clause] = []
    position = 0
    while True:
        match = _CLAUSE.match(text, position)
        if match is None:
            return None
        quoted, number = match.group(2), match.group(3)
        value = number if quoted is None else quoted.replace("''", "'")
        clauses.append(Clause(match.group(1), value))
        position = match.end()
        if position == len(text):
            return clauses
        joined = _AND.match(text, position)
        if joined is None:
            return None
        position = joined.end()

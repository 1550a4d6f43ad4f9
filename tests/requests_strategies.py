"""Hypothesis strategies for onboarding requests: anything JSON, and near-valid requests."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

DOCUMENTED_INPUT_CODES = {20003, 20004, 20005, 20006, 20009, 20507}
MISSING = object()

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _cpf_check_digit(digits: str) -> str:
    weight = len(digits) + 1
    rest = sum(int(d) * (weight - i) for i, d in enumerate(digits)) % 11
    return str(0 if rest < 2 else 11 - rest)


@st.composite
def valid_cpfs(draw: st.DrawFn) -> str:
    base = draw(st.text("0123456789", min_size=9, max_size=9).filter(lambda d: len(set(d)) > 1))
    first = _cpf_check_digit(base)
    cpf = base + first + _cpf_check_digit(base + first)
    if draw(st.booleans()):
        return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"
    return cpf


huge = st.floats(min_value=1e12, max_value=1e300)  # would overflow a timer
names = st.text(st.characters(categories=["L", "Zs"]), min_size=1, max_size=60).filter(
    lambda n: any(c.isalpha() for c in n)
)
emails = st.from_regex(r"[a-z0-9._+-]{1,20}@[a-z0-9]{1,10}\.(com|org|br)", fullmatch=True).filter(
    lambda e: ".." not in e and not e.startswith(".") and ".@" not in e
)
phones = st.from_regex(r"\+?55 ?\(?[1-9][0-9]\)? ?9?[0-9]{4}-?[0-9]{4}", fullmatch=True)


def _field(valid: st.SearchStrategy[Any], optional: bool = False) -> st.SearchStrategy[Any]:
    """Mostly the valid value, sometimes anything JSON, sometimes absent."""
    choices = [valid, valid, json_values, st.just(MISSING)]
    if optional:
        choices.append(st.none())
    return st.one_of(*choices)


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    subject = {
        "code": draw(_field(valid_cpfs())),
        "name": draw(_field(names)),
        "email": draw(_field(emails, optional=True)),
        "phone": draw(_field(phones, optional=True)),
    }
    raw = {
        "request_id": draw(_field(st.from_regex(r"[A-Za-z0-9._:-]{1,40}", fullmatch=True))),
        "subject": draw(st.one_of(st.just(subject), st.just(subject), json_values)),
        "use_case": draw(_field(st.just("Onboarding"))),
        "subsidiary_id": draw(_field(st.uuids().map(str), optional=True)),
        "selfie_ref": draw(_field(st.from_regex(r"local:[0-9a-f]{32}", fullmatch=True))),
        "options": draw(
            _field(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "poll_initial_seconds": st.floats(0.1, 3600) | huge,
                        "deadline_seconds": st.floats(1, 30 * 24 * 3600) | huge,
                        "max_process_attempts": st.integers(1, 10) | st.integers(),
                    },
                )
            )
        ),
    }
    return {k: _drop_missing(v) for k, v in raw.items() if v is not MISSING}


def _drop_missing(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_missing(v) for k, v in value.items() if v is not MISSING}
    return value


@st.composite
def valid_requests(draw: st.DrawFn) -> dict[str, Any]:
    cpf = draw(valid_cpfs())
    return {
        "request_id": draw(st.uuids().map(lambda u: u.hex)),
        "subject": {
            "code": cpf,
            "name": draw(names),
            "email": draw(st.none() | emails),
            "phone": draw(st.none() | phones),
        },
        "selfie_ref": draw(st.from_regex(r"local:[0-9a-f]{32}", fullmatch=True)),
    }


OPTION_NAMES = (
    "poll_initial_seconds",
    "poll_max_seconds",
    "poll_backoff",
    "deadline_seconds",
    "max_process_attempts",
)


@st.composite
def valid_requests_with_a_wild_option(draw: st.DrawFn) -> dict[str, Any]:
    """A valid request with one timing option set to anything a JSON number can be."""
    number = st.floats(allow_nan=False, allow_infinity=False) | st.integers() | huge
    return {
        **draw(valid_requests()),
        "options": {draw(st.sampled_from(OPTION_NAMES)): draw(number)},
    }


any_input = st.one_of(json_values, requests(), valid_requests_with_a_wild_option())


def generated(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` examples of `strategy`, drawn by Hypothesis, for a test that then sends them
    through the real stack (where shrinking a failure would cost minutes)."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found

"""`onboarding explain`: what an error code means, its class, and what the worker does.

The answers come from the same catalogs (each remote system's, activities/*/*.toml) and
the same reaction table (workflows/reactions.py) that the worker runs on, so the command
cannot drift from the behaviour it explains. A code no catalog lists, nor covers by a
catch-all, is an error here (exit 2): at run time its class would depend on the HTTP status
it came with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from activities import SYSTEMS, Catalog, error_systems
from onboarding_client.contract.errors import UNKNOWN_ERROR_ATTEMPTS, ErrorClass
from onboarding_client.contract.outcome import Outcome
from workflows import reaction_for, step_does

# The error systems, as `--system` names them: every catalog of every remote system.
ERROR_SYSTEMS = tuple(errors.name for errors in error_systems())
# The error systems of the steps after approval: a failure there ends the step, not the
# onboarding.
STEP_SYSTEMS = frozenset(
    errors.name for system in SYSTEMS if system.after_approval for errors in system.error_systems
)


def catalogs() -> dict[str, Catalog]:
    """Every catalog, by its error system's name."""
    return {errors.name: errors.catalog for errors in error_systems()}


class UnknownCode(ValueError):
    """No catalog lists or covers the code; the message says what would happen instead."""


@dataclass(frozen=True)
class Explanation:
    system: str
    code: str
    name: str
    description: str
    error_class: ErrorClass
    matched_by: str = "code"  # or "catch_all"
    covered_by: str | None = None
    description_pt: str | None = None
    why: str | None = None

    @property
    def after_approval(self) -> bool:
        return self.system in STEP_SYSTEMS

    @property
    def worker_does(self) -> str:
        if self.after_approval:
            return step_does(self.error_class)
        return reaction_for(self.error_class).does

    def as_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "system": self.system,
            "code": self.code,
            "name": self.name,
            "description": self.description,
            "class": self.error_class.value,
            "worker_does": self.worker_does,
            # After approval the outcome stays approved; the step reports `failed`.
            "outcome_when_exhausted": (
                Outcome.APPROVED.value
                if self.after_approval
                else reaction_for(self.error_class).outcome.value
            ),
            "matched_by": self.matched_by,
        }
        optional = {
            "covered_by": self.covered_by,
            "description_pt": self.description_pt,
            "why": self.why,
        }
        return answer | {key: value for key, value in optional.items() if value is not None}


def _exact(catalog: Catalog, code: str) -> Explanation | None:
    entry = catalog.entries.get(code)
    if entry is None:
        return None
    return Explanation(
        entry.system,
        entry.code,
        entry.name,
        entry.description,
        entry.error_class,
        description_pt=entry.description_pt,
        why=entry.why,
    )


def _covered(catalog: Catalog, code: str) -> Explanation | None:
    rule = catalog.covering(code)
    if rule is None:
        return None
    return Explanation(
        catalog.system,
        code,
        "unlisted",
        rule.description,
        rule.error_class,
        matched_by="catch_all",
        covered_by=rule.covered_by,
    )


def explain(
    code: str, system: str | None = None, known: Mapping[str, Catalog] | None = None
) -> list[Explanation]:
    """Every catalog's answer for `code`: listed codes first, else the catch-alls."""
    known = catalogs() if known is None else known
    if system is not None and system not in known:
        raise UnknownCode(f"unknown system {system!r} (known: {', '.join(known)})")
    chosen = [known[system]] if system else list(known.values())
    code = code.strip()
    for finder in (_exact, _covered):
        found = [answer for catalog in chosen if (answer := finder(catalog, code))]
        if found:
            return found
    where = f" of {system}" if system else ""
    raise UnknownCode(
        f"no catalog{where} lists or covers code {code!r}; at run time such a code takes the "
        "class its HTTP status has in the system's catalog, else transient "
        f"({UNKNOWN_ERROR_ATTEMPTS} attempts at most)"
    )


def explain_all(known: Mapping[str, Catalog] | None = None) -> list[Explanation]:
    known = catalogs() if known is None else known
    return [
        answer
        for catalog in known.values()
        for code in catalog.entries
        if (answer := _exact(catalog, code))
    ]


def describe(answers: Iterable[Explanation]) -> str:
    blocks = []
    for answer in answers:
        lines = [f"{answer.system} {answer.code} ({answer.name}): {answer.error_class.value}"]
        if answer.covered_by:
            lines.append(f"  not listed; covered by {answer.covered_by}")
        lines.append(f"  {answer.description}")
        if answer.description_pt:
            lines.append(f"  seed (pt): {answer.description_pt}")
        if answer.why:
            lines.append(f"  why this class: {answer.why}")
        lines.append(f"  the worker: {answer.worker_does}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def table(answers: list[Explanation]) -> str:
    """One line per code, then what the worker does for each class that appears."""
    rows = [("system", "code", "name", "class")]
    rows += [(a.system, a.code, a.name, a.error_class.value) for a in answers]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}"
        for row in rows
    ]
    classes = sorted({a.error_class for a in answers}, key=list(ErrorClass).index)
    lines += ["", "class: what the worker does"]
    steps_only = all(a.after_approval for a in answers)
    does = step_does if steps_only else (lambda c: reaction_for(c).does)
    lines += [f"  {c.value}: {does(c)}" for c in classes]
    return "\n".join(lines)

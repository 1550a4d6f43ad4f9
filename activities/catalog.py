"""The error catalogs: one TOML file per error system of the seeds, read once.

An `ErrorSystem` is one of them as a remote system answers it: its name, its catalog file
(beside the system's code, in its package) and the reader of its envelope. A catalog holds
every code of its system (name, description, class), the catch-all rules that cover codes
it does not list, and the class of an answer that carries no known code, by HTTP status.
The files are data; this module only reads and checks them, so that a typo in a class
fails at start-up, not on the day Unico answers that code.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from activities.envelopes import EnvelopeReader
from onboarding_client.contract.errors import CATALOG_CLASSES, ErrorClass


class CatalogError(Exception):
    """A catalog file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Entry:
    system: str
    code: str
    name: str
    error_class: ErrorClass
    description: str
    description_pt: str | None = None
    why: str | None = None  # why this class, where it is not obvious


@dataclass(frozen=True)
class CatchAll:
    """Codes `first`..`last` that no entry lists take `error_class`."""

    first: int
    last: int
    error_class: ErrorClass
    covered_by: str  # the catalogued code that is the catch-all, or "340-359" for a range
    description: str

    @property
    def width(self) -> int:
        return self.last - self.first + 1


@dataclass(frozen=True)
class Catalog:
    system: str
    title: str
    entries: Mapping[str, Entry]
    catch_alls: tuple[CatchAll, ...]
    http_statuses: Mapping[str, ErrorClass]  # "429", or a family such as "5xx"

    def covering(self, code: str) -> CatchAll | None:
        """The narrowest catch-all rule that covers an unlisted numeric code."""
        if not code.isdigit() or code in self.entries:
            return None
        number = int(code)
        rules = [r for r in self.catch_alls if r.first <= number <= r.last]
        return min(rules, key=lambda r: r.width, default=None)

    def for_http_status(self, status: int) -> ErrorClass | None:
        return self.http_statuses.get(str(status)) or self.http_statuses.get(f"{status // 100}xx")


def _class(value: Any, where: str) -> ErrorClass:
    if value not in CATALOG_CLASSES:
        known = ", ".join(sorted(CATALOG_CLASSES))
        raise CatalogError(f"{where}: unknown class {value!r} (known: {known})")
    return ErrorClass(value)


def _text(table: Mapping[str, Any], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: `{key}` must be a non-empty string")
    return value


def _entries(system: str, rows: Any, where: str) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for row in rows if isinstance(rows, list) else []:
        code = _text(row, "code", where)
        at = f"{where} code {code}"
        if code in entries:
            raise CatalogError(f"{at}: listed twice")
        entries[code] = Entry(
            system=system,
            code=code,
            name=row.get("name", code),
            error_class=_class(row.get("class"), at),
            description=_text(row, "description", at),
            description_pt=row.get("description_pt"),
            why=row.get("why"),
        )
    if not entries:
        raise CatalogError(f"{where}: no [[code]] entries")
    return entries


def _catch_alls(table: Mapping[str, Any], entries: Mapping[str, Entry]) -> tuple[CatchAll, ...]:
    rules = []
    # A catalogued multiple of m covers the m codes from it: 210 covers 210-219.
    for multiple in table.get("multiples", []):
        for entry in entries.values():
            if entry.code.isdigit() and int(entry.code) % multiple == 0:
                first = int(entry.code)
                rules.append(
                    CatchAll(
                        first,
                        first + multiple - 1,
                        entry.error_class,
                        entry.code,
                        f"covered by {entry.code} ({entry.name}), a catch-all for the codes "
                        "below it",
                    )
                )
    for row in table.get("range", []):
        span = f"{row['first']}-{row['last']}"
        rules.append(
            CatchAll(
                int(row["first"]),
                int(row["last"]),
                _class(row.get("class"), f"range {span}"),
                span,
                row.get("description", f"in the range {span}"),
            )
        )
    return tuple(rules)


def load_catalog(path: Path) -> Catalog:
    where = path.name
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{where}: {exc}") from None
    system = _text(data, "system", where)
    entries = _entries(system, data.get("code"), where)
    statuses = {
        str(status): _class(cls, f"{where} http_status {status}")
        for status, cls in data.get("http_status", {}).items()
    }
    return Catalog(
        system=system,
        title=_text(data, "title", where),
        entries=entries,
        catch_alls=_catch_alls(data.get("catch_all", {}), entries),
        http_statuses=statuses,
    )


@dataclass(frozen=True)
class ErrorSystem:
    """One error system: what errors' details name it, its catalog, its envelope's reader."""

    name: str
    package: str  # the package whose folder holds the catalog file
    catalog_file: str
    read_envelope: EnvelopeReader

    @functools.cached_property
    def catalog(self) -> Catalog:
        catalog = load_catalog(Path(str(files(self.package) / self.catalog_file)))
        if catalog.system != self.name:
            raise CatalogError(f"{self.catalog_file}: system {catalog.system!r}, not {self.name!r}")
        return catalog

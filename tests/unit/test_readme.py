"""The README's configuration table names every setting, with the default the code has."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from onboarding.runtime.settings import Settings
from onboarding.temporal.connection import METADATA_PREFIX, VARIABLES

README = (Path(__file__).parents[2] / "README.md").read_text()
ROW = re.compile(r"^\| `([A-Z0-9_]+)` \| ([^|]*) \| ([^|]+) \|$", re.MULTILINE)


def configuration_rows() -> dict[str, str]:
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return {name: default.strip() for name, default, _ in ROW.findall(section)}


def shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def test_every_setting_has_a_row_and_nothing_else_does() -> None:
    assert set(configuration_rows()) == {name.upper() for name in Settings.model_fields}


def test_each_row_gives_the_default_the_code_has() -> None:
    rows = configuration_rows()
    for name, field in Settings.model_fields.items():
        cell = rows[name.upper()]
        if field.default in (None, ""):  # nothing to quote: the row says what "unset" does
            assert "`" not in cell, f"{name.upper()} has no literal default, the README gives one"
        else:
            assert cell == f"`{shown(field.default)}`", f"{name.upper()}: README says {cell}"


def test_the_connection_table_names_every_variable_that_connect_reads() -> None:
    section = README.split("## Connecting to Temporal", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `(TEMPORAL_[A-Z_<>]+)` \|", section, re.MULTILINE))
    assert rows == {*VARIABLES, f"{METADATA_PREFIX}<NAME>"}

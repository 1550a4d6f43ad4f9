"""The docs say what the code does.

Each table that restates one of the code's own tables is compared with it: the settings and
their defaults, the Temporal connection variables, the input refusals, the sandbox's
scenario CPFs and the reactions per error class. Every relative link leads to a file (and
heading) that exists, every repository path the docs cite exists, and no file refers to a
document outside the repository.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from activities.selfies import inspection
from devstack.scenarios import SCENARIOS
from onboarding.runtime.settings import every_setting
from onboarding.temporal.connection import METADATA_PREFIX, VARIABLES
from workflows import requests
from workflows.reactions import REACTIONS

ROOT = Path(__file__).parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", *DOCS, ROOT / "sandbox" / "README.md", ROOT / "bench" / "README.md"]
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def read(relative: str) -> str:
    return (ROOT / relative).read_text()


def section(text: str, heading: str) -> str:
    """The text under `## heading`, up to the next second-level heading."""
    parts = text.split(f"\n## {heading}\n", 1)
    assert len(parts) == 2, f"no section '## {heading}'"
    return parts[1].split("\n## ", 1)[0]


def shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# --- docs/configuration.md ----------------------------------------------------------------

# A bar inside a cell is written `\|`, as Markdown tables want it.
SETTING_ROW = re.compile(r"^\| `([A-Z0-9_]+)` \| ((?:[^|\\]|\\.)*) \| ([^|]+) \|$", re.MULTILINE)


def setting_rows() -> dict[str, str]:
    rows = SETTING_ROW.findall(section(read("docs/configuration.md"), "Settings"))
    return {name: default.strip().replace("\\|", "|") for name, default, _ in rows}


def test_every_setting_has_a_row_and_nothing_else_does() -> None:
    """Every variable of the shell's, the selfie store's and each remote system's settings."""
    assert set(setting_rows()) == set(every_setting())


def test_each_setting_row_gives_the_default_the_code_has() -> None:
    rows = setting_rows()
    for variable, setting in every_setting().items():
        cell, field = rows[variable], setting.info
        if field.default in (None, ""):  # nothing to quote: the row says what "unset" does
            assert "`" not in cell, f"{variable} has no literal default, the docs give one"
        else:
            assert cell == f"`{shown(field.default)}`", f"{variable}: the docs say {cell}"


def test_the_connection_table_names_every_variable_that_connect_reads() -> None:
    text = section(read("docs/configuration.md"), "Connecting to Temporal")
    rows = re.findall(r"^\| `(TEMPORAL_[A-Z_<>]+)` \|", text, re.MULTILINE)
    assert sorted(rows) == sorted({*VARIABLES, f"{METADATA_PREFIX}<NAME>"})
    assert len(rows) == len(set(rows))


# --- the tables generated from the code's ---------------------------------------------------


def test_the_input_refusals_table_is_the_code_s() -> None:
    text = section(read("docs/personal-data.md"), "Input rules")
    rows = [
        (refusal, int(code))
        for refusal, code in re.findall(r"^\| (.+?) \| (\d+) \|$", text, re.MULTILINE)
    ]
    assert rows == [*requests.REFUSALS, *inspection.REFUSALS]


def test_the_scenario_table_is_the_code_s() -> None:
    text = section(read("sandbox/README.md"), "Scenario CPFs")
    rows = re.findall(r"^\| (\d{11}) \| (.+?) \| ([a-z_]+) \|$", text, re.MULTILINE)
    assert rows == [(s.cpf, s.unico_behaviour, s.expected.value) for s in SCENARIOS]


def test_the_error_classes_table_says_what_the_reactions_table_does() -> None:
    text = section(read("docs/error-classes.md"), "The classes")
    rows = re.findall(r"^\| `([a-z_]+)` \| [^|]* \| ([^|]+) \|$", text, re.MULTILINE)
    assert [(name, does.strip()) for name, does in rows] == [
        (str(name), reaction.does) for name, reaction in REACTIONS.items()
    ]


# --- links and paths --------------------------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)
# A path in backticks whose first folder is one of the repository's.
TOP_FOLDERS = (
    "contracts",
    "workflows",
    "activities",
    "onboarding",
    "devstack",
    "devtools",
    "sandbox",
    "tests",
    "bench",
    "docs",
)
CITED_PATH = re.compile(rf"`((?:{'|'.join(TOP_FOLDERS)}|deploy|scripts|spec)/[\w./-]*)(?::[^`]*)?`")


def prose(page: Path) -> str:
    """The page without its fenced code blocks (commands and output, not links)."""
    return FENCE.sub("", page.read_text())


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(heading) for heading in HEADING.findall(prose(page))}


def relative_links() -> Iterator[tuple[Path, str]]:
    for page in PAGES:
        for target in LINK.findall(prose(page)):
            if not re.match(r"[a-z]+:", target):  # http:, https:, mailto:
                yield page, target


def test_the_pages_exist() -> None:
    for page in PAGES:
        assert page.is_file(), f"{page.relative_to(ROOT)} is missing"


@pytest.mark.parametrize(
    ("page", "target"),
    list(relative_links()),
    ids=lambda value: str(value.relative_to(ROOT)) if isinstance(value, Path) else value,
)
def test_every_relative_link_leads_somewhere(page: Path, target: str) -> None:
    path, _, anchor = target.partition("#")
    destination = (page.parent / path).resolve() if path else page
    assert destination.exists(), f"{page.relative_to(ROOT)} links to a missing {target}"
    if anchor and destination.suffix == ".md":
        assert anchor in anchors(destination), f"{page.relative_to(ROOT)}: no heading #{anchor}"


def test_every_repository_path_the_docs_cite_exists() -> None:
    missing = []
    for page in PAGES:
        for cited in CITED_PATH.findall(page.read_text()):
            glob = cited.rstrip("/")
            if not any(ROOT.glob(glob)):
                missing.append(f"{page.relative_to(ROOT)}: {cited}")
    assert not missing, "cited, but not in the repository:\n" + "\n".join(missing)


# --- only the repository --------------------------------------------------------------------

# Spelled in pieces, so that this file does not mention what it looks for.
OUTSIDE = tuple(
    re.compile(re.escape(text), re.IGNORECASE)
    for text in ("DESIGN" + ".md", ".." + "/shared", "facts" + " page")
)
SKIPPED = "tests/replay/histories/"


def repository_files() -> list[str]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return sorted(set(listed.splitlines()))


def text_of(path: Path) -> str | None:
    """The file's text, or None for a binary file (or one no longer there)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def test_no_file_refers_to_a_document_outside_the_repository() -> None:
    found = []
    for name in repository_files():
        if name.startswith(SKIPPED):
            continue
        text = text_of(ROOT / name)
        if text is None:
            continue
        for pattern in OUTSIDE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{name}:{line}: {match.group(0)}")
    assert not found, "refers to a document outside the repository:\n" + "\n".join(found)

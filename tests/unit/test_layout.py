"""The arrows between the rooms run one way: exactly the table of docs/architecture.md
("Layout and import rules"), read from the page, so that the page and the code agree.

Also: the shell (`onboarding/`, `worker.py`, `devstack/`) takes from `workflows/` and
`activities/` only what their packages' faces export (`workflows`, `activities`,
`activities.<system>`), never a module inside; and no cycle runs between our modules.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
# What a room may import besides our rooms: the libraries a deterministic room may use.
LIBRARIES = {
    # pyjwt and cryptography: the review proof's signature, checked in the update's validator.
    "contracts": {"temporalio", "pydantic", "jwt", "cryptography"},
    "workflows": {"temporalio", "pydantic", "opentelemetry"},
    # The caller's client: only what its own distribution depends on (clients/python).
    "onboarding_client": {"temporalio", "pydantic", "httpx", "cryptography"},
}
SHELL = ("onboarding", "worker.py", "devstack")


def arrows() -> dict[str, set[str]]:
    """The page's table: each room, and the rooms it may import (besides itself)."""
    text = ARCHITECTURE.read_text()
    table = text.split("## Layout and import rules", 1)[1].split("\n\n")[1]
    found = {}
    for line in table.splitlines()[2:]:
        room, may = (cell.strip() for cell in line.strip("|").split("|")[:2])
        room = room.strip("`")
        found[room] = {name.strip().strip("`") for name in may.split(",")} - {"nothing", ""}
    return found


ARROWS = arrows()


def room_of(module: str) -> str | None:
    """`onboarding.cli.main` -> `onboarding/cli`; `worker` -> `worker.py`; else its top."""
    parts = module.split(".")
    if parts[0] == "onboarding" and len(parts) > 1 and f"onboarding/{parts[1]}" in ARROWS:
        return f"onboarding/{parts[1]}"
    if parts[0] == "worker":
        return "worker.py"
    return parts[0] if parts[0] in ARROWS else None


def python_files(room: str) -> list[Path]:
    place = ROOT / room
    if place.suffix == ".py":
        return [place]
    return sorted(p for p in place.rglob("*.py") if "histories" not in p.parts)


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def imports(path: Path) -> Iterator[str]:
    """Every module `path` imports, absolute (relative imports are not used here)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import"
            yield node.module


def stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names


def test_the_page_draws_every_room() -> None:
    rooms = {"contracts", "workflows", "activities", "worker.py", "devstack", "sandbox"}
    rooms |= {f"onboarding/{p.name}" for p in (ROOT / "onboarding").iterdir() if p.is_dir()}
    rooms -= {"onboarding/__pycache__", "onboarding/assets"}
    assert rooms <= set(ARROWS), rooms - set(ARROWS)


@pytest.mark.parametrize("room", sorted(ARROWS))
def test_a_room_imports_only_what_the_page_allows(room: str) -> None:
    allowed = ARROWS[room] | {room}
    found = []
    for path in python_files(room):
        for module in imports(path):
            target = room_of(module)
            if target is None and room in LIBRARIES and not stdlib(module):
                if module.split(".")[0] not in LIBRARIES[room]:
                    found.append(f"{path.relative_to(ROOT)} imports {module}")
            elif target is not None and target not in allowed and "everything" not in allowed:
                found.append(f"{path.relative_to(ROOT)} imports {module}")
    assert found == []


def face(module: str) -> bool:
    """`workflows`, `activities`, or `activities.<package>`: what a package exports."""
    parts = module.split(".")
    if parts[0] == "workflows":
        return len(parts) == 1
    if parts[0] == "activities":
        return len(parts) == 1 or (len(parts) == 2 and (ROOT / "activities" / parts[1]).is_dir())
    return True


@pytest.mark.parametrize("room", SHELL)
def test_the_shell_takes_only_what_the_packages_export(room: str) -> None:
    found = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in python_files(room)
        for module in imports(path)
        if not face(module)
    ]
    assert found == []


def test_no_cycle_between_our_modules() -> None:
    rooms = [room for room in ARROWS if room not in ("tests", "bench")]
    graph: dict[str, set[str]] = {}
    for room in rooms:
        for path in python_files(room):
            name = module_name(path)
            graph[name] = {module for module in imports(path) if room_of(module) and module != name}
    # A module's import of `a.b` also runs `a`'s package: the face's own imports count.
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if target not in graph:
                continue
            if state.get(target) == 1:
                cycles.append(" -> ".join([*trail[trail.index(target) :], target]))
            elif target not in state:
                visit(target, [*trail, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_a_broken_arrow_would_be_caught(tmp_path: Path) -> None:
    stray = tmp_path / "stray.py"
    stray.write_text("from devstack.stack import DevStack\nimport sandbox.app\n")
    assert [room_of(m) for m in imports(stray)] == ["devstack", "sandbox"]
    assert "devstack" not in ARROWS["onboarding/cli"] and "sandbox" not in ARROWS["workflows"]
    assert not face("workflows.steps.review") and not face("activities.unico.processes")
    assert re.search(r"\| `workflows` \|", ARCHITECTURE.read_text())

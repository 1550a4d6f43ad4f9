"""The arrows between the rooms run one way; an import that breaks that fails here.

- `workflows/` imports only `workflows/` (and the libraries a workflow may use);
- `activities/` imports from `workflows/` only the contract: `models`, `names`, `error_classes`;
- `sandbox/` imports nothing of ours: it stands for the remote systems;
- product code (`workflows/`, `activities/`, `onboarding/`, `worker.py`) never imports
  `tests/` or `bench/`; `bench/` never imports `tests/`;
- tests reach the sandbox over HTTP: only the sandbox's own tests import it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = {"workflows", "activities", "onboarding", "sandbox", "worker", "tests", "bench"}
WORKFLOW_LIBRARIES = {"temporalio", "pydantic", "opentelemetry"}
CONTRACT = {"workflows.models", "workflows.names", "workflows.error_classes"}


def python_files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "histories" not in p.parts)


def imports(path: Path) -> Iterator[str]:
    """Every module `path` imports, absolute (relative imports are not used here)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import"
            yield node.module


def ours(module: str) -> str | None:
    top = module.split(".")[0]
    return top if top in OURS else None


def stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names


def violations(folder: str, allowed: Callable[[str], bool]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in python_files(folder)
        for module in imports(path)
        if not allowed(module)
    ]


def test_workflows_import_only_workflows_and_what_a_workflow_may_use() -> None:
    def allowed(module: str) -> bool:
        top = module.split(".")[0]
        return stdlib(module) or top in WORKFLOW_LIBRARIES or top == "workflows"

    assert violations("workflows", allowed) == []


def test_activities_take_from_workflows_only_the_contract() -> None:
    def allowed(module: str) -> bool:
        top = ours(module)
        if top == "workflows":
            return module in CONTRACT
        return top in (None, "activities")

    assert violations("activities", allowed) == []


def test_the_sandbox_imports_nothing_of_ours() -> None:
    assert violations("sandbox", lambda module: ours(module) in (None, "sandbox")) == []


@pytest.mark.parametrize("folder", ["workflows", "activities", "onboarding", "worker.py", "bench"])
def test_product_code_and_benchmarks_never_import_tests(folder: str) -> None:
    forbidden = {"tests"} if folder == "bench" else {"tests", "bench"}
    files = [ROOT / folder] if folder.endswith(".py") else python_files(folder)
    found = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in files
        for module in imports(path)
        if ours(module) in forbidden
    ]
    assert found == []


def test_only_the_sandbox_s_own_tests_import_it() -> None:
    found = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in python_files("tests")
        if "sandbox" not in path.relative_to(ROOT / "tests").parts[:1]
        for module in imports(path)
        if ours(module) == "sandbox"
    ]
    assert found == []


def test_a_broken_arrow_would_be_caught(tmp_path: Path) -> None:
    stray = tmp_path / "stray.py"
    stray.write_text("from onboarding.dev.stack import DevStack\nimport sandbox.app\n")
    assert [ours(m) for m in imports(stray)] == ["onboarding", "sandbox"]

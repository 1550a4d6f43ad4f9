"""`make bench`: run the benchmarks, print their figures, keep them in bench-results/.

    python -m bench [NAME ...] [--out bench-results]

Exits 1 when a benchmark misses its target, so that a regression is loud.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import pkgutil
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import bench
from bench.result import BenchResult
from onboarding.runtime.entry import leave

Benchmark = Callable[[Path], Awaitable[BenchResult]]
TIMEOUT_SECONDS = 600


def discover() -> dict[str, Benchmark]:
    """Every module of the package with a `NAME` and a `run`: adding a file adds a benchmark."""
    found: dict[str, Benchmark] = {}
    for module_info in pkgutil.iter_modules(bench.__path__):
        module = importlib.import_module(f"bench.{module_info.name}")
        name, run = getattr(module, "NAME", None), getattr(module, "run", None)
        if isinstance(name, str) and callable(run):
            found[name] = run
    return found


def defaults(benchmarks: dict[str, Benchmark]) -> list[str]:
    """All but those marked `DEFAULT = False` (too long for every run: asked for by name)."""
    found = []
    for name, run in benchmarks.items():
        module = importlib.import_module(run.__module__)
        if getattr(module, "DEFAULT", True):
            found.append(name)
    return found


def timeout_of(run: Benchmark) -> float:
    """The benchmark's own bound (`TIMEOUT_SECONDS` in its module), or the default."""
    module = importlib.import_module(run.__module__)
    return float(getattr(module, "TIMEOUT_SECONDS", TIMEOUT_SECONDS))


async def main(argv: list[str] | None = None) -> int:
    benchmarks = discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"default: {', '.join(defaults(benchmarks))}")
    parser.add_argument("--out", type=Path, default=Path("bench-results"))
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in benchmarks]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)
    all_met = True
    for name in args.names or defaults(benchmarks):
        print(f"== {name}", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as work:
            async with asyncio.timeout(timeout_of(benchmarks[name])):
                result = await benchmarks[name](Path(work))
            for kept in result.files:  # before the scratch directory goes
                shutil.copyfile(kept, args.out / kept.name)
        (args.out / f"{name}.json").write_text(
            json.dumps({"figures": result.figures, "target_met": result.target_met}, indent=2)
            + "\n"
        )
        print("\n".join(result.lines))
        print(f"target met: {'yes' if result.target_met else 'NO'}", flush=True)
        all_met &= result.target_met
    return 0 if all_met else 1


if __name__ == "__main__":
    leave(asyncio.run(main()))

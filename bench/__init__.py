"""Benchmarks: timed figures that tests must not assert. `make bench` runs them all.

Each benchmark module offers `NAME` and `async def run(work: Path) -> BenchResult`, and is
listed in `bench.__main__.BENCHMARKS`; the runner writes each result as JSON under
`bench-results/` and prints its lines.
"""

"""Benchmarks: timed figures that tests must not assert. `make bench` runs them all.

Each benchmark is a module of this package that offers `NAME` and
`async def run(work: Path) -> BenchResult` (see `bench.result`); the runner finds it, gives
it a scratch directory, writes its result as JSON under `bench-results/` and prints it.
"""

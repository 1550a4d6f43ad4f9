"""Benchmarks: timed figures that tests must not assert. `make bench` runs them."""

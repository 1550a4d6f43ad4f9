"""A developer's and a test's stack on loopback: `stack` stands it up (the one way, used by
`make run`, the tests, the benchmarks and the fault suite), `credentials` makes its secrets
once, `scenarios` names the sandbox's test CPFs and what each must end as, `demo` runs them,
and `sandbox_client` drives the sandbox's admin endpoints."""

"""What the workflow and its activities share, above the caller's contract
(`onboarding_client.contract`).

The payload models of the steps by subject (`unico`, `selfies`, `account`, `mfa`,
`evidence`), the reviewers' proof and four eyes, and the activities' contracts (`activity`):
each activity is declared here once, with its argument, its result and the task queue it runs
on, so that the workflow calls it by reference and its implementation in `activities/` is
checked against the same signature. Pure declarations: safe in the workflow sandbox, and free
of any I/O.
"""

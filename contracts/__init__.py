"""What callers, the workflow and its activities share: the bottom of the arrows.

Names (`names`), the error vocabulary (`errors`), the payload models by subject (`request`,
`result`, `status`, `review`, `unico`, `selfies`, `account`, `mfa`) and the activities'
contracts (`activity`): each activity is declared here once, with its argument, its result
and the task queue it runs on, so that the workflow calls it by reference and its
implementation in `activities/` is checked against the same signature. Pure declarations:
safe in the workflow sandbox, and free of any I/O.
"""

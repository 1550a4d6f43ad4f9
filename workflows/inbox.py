"""What any client may send a handler: its arguments counted and weighed before they are read.

Any Temporal client with access to the namespace can send our signals, queries and updates
with any number of arguments of any shape. A handler that raised on them would fail its
workflow task on every retry, and the onboarding would be stuck; so every handler takes
`*args` and goes through here: an update's validator refuses what it cannot use (nothing
reaches history), a signal or a query ignores what it does not need, and either says so in
the log, by count and never by value (the values may be personal data).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from onboarding_client.contract.errors import refusal

# An accepted update's input is written to history, and the server refuses a payload over
# 2 MB by failing the workflow task that would write it. Every answer we take is under 1 KB
# (a review's note is at most 500 characters): far below, and far above what is needed.
MAX_UPDATE_INPUT_BYTES = 16 * 1024


def sole_argument(args: tuple[Any, ...], *, code: str, shape: str) -> Any:
    """The one argument an update takes, or a refusal with `code` that says `shape`."""
    if len(args) != 1:
        raise refusal(code, f"send one argument, {shape}; {len(args)} came")
    refuse_oversized(args, code=code)
    return args[0]


def no_arguments(args: tuple[Any, ...], *, code: str) -> None:
    """An update that takes nothing: any argument is refused before history."""
    if args:
        raise refusal(code, f"this update takes no argument; {len(args)} came")


def refuse_oversized(args: tuple[Any, ...], *, code: str) -> None:
    size = input_bytes(args)
    if size > MAX_UPDATE_INPUT_BYTES:
        raise refusal(code, f"the input is {size} bytes; at most {MAX_UPDATE_INPUT_BYTES}")


def input_bytes(args: tuple[Any, ...]) -> int:
    """The arguments' size as history would hold them (before encryption's few bytes)."""
    payloads = workflow.payload_converter().to_payloads(list(args))
    return sum(payload.ByteSize() for payload in payloads)


def ignore_extra(args: tuple[Any, ...], handler: str, *, takes: int = 0) -> None:
    """A signal or query reads its first `takes` arguments; the rest are noted and ignored."""
    if len(args) > takes:
        workflow.logger.warning(
            "%s: %d argument(s) beyond the %d it reads were ignored",
            handler,
            len(args) - takes,
            takes,
        )

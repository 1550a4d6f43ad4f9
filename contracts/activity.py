"""An activity's contract: its name, its argument, its result and its task queue, once.

A contract is a declaration, never run: the workflow calls it by reference
(`workflow.execute_activity(open_process, ...)`), so the type checker sees what goes in and
what comes back; the implementation in `activities/` is defined with
`@implements(open_process)`, which registers it under the contract's name and holds its
signature to the contract's. An activity of a remote system names that system: it runs on
the system's own task queue (`names.queue_for`), under the system's budget of requests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from temporalio import activity

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
P = TypeVar("P")
R = TypeVar("R")
S = TypeVar("S")


@dataclass(frozen=True)
class Declared:
    name: str
    system: str | None  # None: the workflow's own task queue


_DECLARED: dict[Callable[..., Any], Declared] = {}


def contract(name: str, *, system: str | None = None) -> Callable[[F], F]:
    """Declare an activity: `name` is what history shows, `system` the remote it calls."""

    def declare(declaration: F) -> F:
        _DECLARED[declaration] = Declared(name, system)
        return activity.defn(name=name)(declaration)

    return declare


def declared(declaration: Callable[..., Any]) -> Declared:
    try:
        return _DECLARED[declaration]
    except KeyError:
        raise ValueError(f"{declaration!r} is no activity contract") from None


def declarations() -> tuple[Declared, ...]:
    """Every contract of the modules imported so far."""
    return tuple(_DECLARED.values())


def not_called(name: str) -> NotImplementedError:
    """What a contract's body raises: it is a declaration; `activities/` implements it."""
    return NotImplementedError(f"{name} is a contract; the worker runs its implementation")


@overload
def implements(
    declaration: Callable[[], Awaitable[R]],
) -> Callable[[Callable[[S], Awaitable[R]]], Callable[[S], Awaitable[R]]]: ...


@overload
def implements(
    declaration: Callable[[P], Awaitable[R]],
) -> Callable[[Callable[[S, P], Awaitable[R]]], Callable[[S, P], Awaitable[R]]]: ...


def implements(declaration: Callable[..., Any]) -> Callable[[Any], Any]:
    """Define a method as the activity of `declaration`: same name, same signature."""
    name = declared(declaration).name

    def define(method: Any) -> Any:
        return activity.defn(name=name)(method)

    return define

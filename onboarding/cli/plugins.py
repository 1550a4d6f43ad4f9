"""Commands that other distributions add to `onboarding` (entry point group
`onboarding.commands`): the dev tooling adds `dev` and `demo`. The product's CLI imports none
of their code; without them, it says in one line where such a command comes from."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

GROUP = "onboarding.commands"
# The commands of the dev tooling: named even where it is not installed.
DEV_TOOLING = {
    "dev": "run the local stack (the dev tooling)",
    "demo": "run every scenario CPF (the dev tooling)",
}
Handler = Callable[[argparse.Namespace], int | Awaitable[int]]


@dataclass(frozen=True)
class Command:
    name: str
    add_parser: Callable[[Any, argparse.ArgumentParser], None]
    handler: Handler


class NotInstalled(Exception):
    """A command of a distribution that is not installed."""


def installed() -> dict[str, Command]:
    """The commands the installed distributions add, by name."""
    found: dict[str, Command] = {}
    for entry in entry_points(group=GROUP):
        command = entry.load()
        if isinstance(command, Command):
            found[command.name] = command
    return found


def add_missing(commands: Any, present: dict[str, Command]) -> dict[str, Handler]:
    """Stand-ins for the dev tooling's commands where it is not installed."""
    handlers: dict[str, Handler] = {}
    for name, text in DEV_TOOLING.items():
        if name in present:
            continue
        stand_in = commands.add_parser(name, help=text, add_help=False)
        stand_in.add_argument("rest", nargs=argparse.REMAINDER)

        def refuse(args: argparse.Namespace, name: str = name) -> int:
            raise NotInstalled(
                f"`onboarding {name}` comes with the dev tooling, which this install lacks: "
                "pip install -e './devtools' from a checkout (make run does)"
            )

        handlers[name] = refuse
    return handlers

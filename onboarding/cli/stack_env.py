"""A running stack's `env` file: how another shell, and every `onboarding` command, finds it.

`onboarding dev` writes `<STATE_DIR>/env` once its parts are up and removes it when it
stops: `export NAME=value` lines, the values shell-quoted, the secrets as the paths of their
files. A shell sources it (`. .state/env`); the commands read `${STATE_DIR:-.state}/env` as
defaults under the environment, so that a stack on other ports is found without a word,
while a variable of the environment still wins.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from pathlib import Path

from onboarding.temporal.connection import METADATA_PREFIX, VARIABLES

ENV_FILE = "env"  # under the state folder
DEFAULT_STATE_DIR = ".state"
FILE_SUFFIX = "_FILE"
HEADER = "# Written by `onboarding dev` while its stack runs; removed when it stops.\n"


def env_file(environ: Mapping[str, str]) -> Path:
    """Where the stack of this environment's STATE_DIR (else `.state`) writes its file."""
    return Path(environ.get("STATE_DIR", "").strip() or DEFAULT_STATE_DIR) / ENV_FILE


def export_lines(values: Mapping[str, str]) -> str:
    """The file's text: one `export` line per variable, its value shell-quoted."""
    lines = (f"export {name}={shlex.quote(value)}\n" for name, value in values.items())
    return HEADER + "".join(lines)


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of the file's `export NAME=value` lines; none when there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    found = {}
    for line in text.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:  # an unclosed quote: not a line this module wrote
            continue
        if len(words) != 2 or words[0] != "export" or "=" not in words[1]:
            continue
        name, _, value = words[1].partition("=")
        if name.isidentifier():
            found[name] = value
    return found


def defaults_under(environ: Mapping[str, str], found: Mapping[str, str]) -> dict[str, str]:
    """What the file adds to `environ`: the variables it does not set (an empty value counts
    as unset). A secret given either way (`NAME` or `NAME_FILE`) takes neither form from the
    file, which would make it set twice; and the Temporal connection comes whole from one
    place: a profile or variable of the environment would otherwise mix with the stack's."""

    def given(name: str) -> bool:
        return bool(environ.get(name, "").strip())

    temporal_given = any(
        given(name) for name in environ if name in VARIABLES or name.startswith(METADATA_PREFIX)
    )
    added = {}
    for name, value in found.items():
        if name.startswith("TEMPORAL_"):
            if temporal_given:
                continue
        elif given(name) or given(_other_form(name)):
            continue
        added[name] = value
    return added


def _other_form(name: str) -> str:
    return name.removesuffix(FILE_SUFFIX) if name.endswith(FILE_SUFFIX) else name + FILE_SUFFIX


@contextmanager
def stack_defaults(environ: MutableMapping[str, str] | None = None) -> Iterator[dict[str, str]]:
    """The stack's file laid under `environ` (default: this process's) for the block; the
    variables it added are taken away again after it."""
    target: MutableMapping[str, str] = os.environ if environ is None else environ
    added = defaults_under(target, read_env_file(env_file(target)))
    before = {name: target.get(name) for name in added}
    target.update(added)
    try:
        yield added
    finally:
        for name, value in before.items():
            if value is None:
                target.pop(name, None)
            else:
                target[name] = value

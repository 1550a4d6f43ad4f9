"""What every `onboarding` command shares: its settings, its one-line errors, its output."""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

from pydantic import BaseModel

from onboarding.runtime.secrets import with_dev_secrets
from onboarding.runtime.settings import Settings
from onboarding.runtime.settings import load_settings as load_environment
from onboarding_client.contract.outcome import Outcome


class Exit(IntEnum):
    """The exit codes a script can branch on (the README's table, which a test holds to this)."""

    DONE = 0  # the command did what it says; an onboarding waited for reached its outcome
    ANSWERED_NO = 1  # it ran, and the answer is no: invalid_request, a code refused, a mismatch
    COULD_NOT_RUN = 2  # usage, an argument or setting, a stack out of reach, a refused call
    INTERRUPTED = 130  # Ctrl-C


def outcome_exit(outcome: Outcome) -> Exit:
    """An onboarding that refused its request said no; any other outcome is a decision (or
    the onboarding's end) that the output reports."""
    return Exit.ANSWERED_NO if outcome is Outcome.INVALID_REQUEST else Exit.DONE


class CommandError(Exception):
    """A bad argument or an unknown onboarding: one line for the user."""


def load_settings() -> Settings:
    """The environment's settings; beside `make run`, the local stack's secrets fill the gaps."""
    return with_dev_secrets(load_environment())


def emit(as_json: bool, payload: Any, text: str) -> None:
    print(json.dumps(payload, indent=2, ensure_ascii=False) if as_json else text)


def describe_result(result: dict[str, Any]) -> str:
    lines = [f"outcome: {result['outcome']}"]
    lines += [f"  {r['code']}: {r['message']}" for r in result["reasons"]]
    facts = ("process_id", "unico_status", "unico_id", "score", "attempts")
    lines += [f"  {key}: {result[key]}" for key in facts if result.get(key) is not None]
    if account := result.get("account"):
        line = f"  account: {account['status']}"
        if account.get("uuid"):
            line += f", uuid {account['uuid']}"
        if reason := account.get("reason"):
            line += f" ({reason['code']}: {reason['message']})"
        lines.append(line)
    if mfa := result.get("mfa"):
        line = f"  mfa: {mfa['status']} ({mfa['method']})"
        if reason := mfa.get("reason"):
            line = line[:-1] + f"; {reason['code']}: {reason['message']})"
        lines.append(line)
    if review := result.get("review"):
        note = f" ({review['note']})" if review.get("note") else ""
        lines.append(
            f"  review: {review['decision']} by {review['reviewer']} at "
            f"{review['reviewed_at']}{note}"
        )
    return "\n".join(lines)


def status_text(status: dict[str, Any]) -> str:
    """The `status` query's answer, a field a line, every value in one column."""
    width = max(map(len, status))  # every field's name, shown or not: the column stays put
    lines = []
    for key, value in status.items():
        if value is None:
            continue
        if isinstance(value, dict) and {"code", "message"} <= value.keys():
            value = f"{value['code']}: {value['message']}"  # a reason, as results show it
        lines.append(f"{key:>{width}}: {value}")
    return "\n".join(lines)


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as the JSON a command prints."""
    return model.model_dump(mode="json")

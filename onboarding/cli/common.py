"""What every `onboarding` command shares: its settings, its one-line errors, its output."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from onboarding.runtime.secrets import with_dev_secrets
from onboarding.runtime.settings import Settings
from onboarding.runtime.settings import load_settings as load_environment


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


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as the JSON a command prints."""
    return model.model_dump(mode="json")

"""The contract as JSON Schema, made from the models: what a calling service in any
language sends (`schema/onboarding-input.json`) and gets back (`onboarding-result.json`).

    python -m contracts.schema [DIR]    writes both (default: schema/)

A test keeps the files equal to what the models make; the package installs them under
`share/unico-onboarding/schema/`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from onboarding_client.contract.request import OnboardingRequest
from onboarding_client.contract.result import OnboardingResult

DRAFT = "https://json-schema.org/draft/2020-12/schema"
BASE = "https://unico-onboarding.example/schema/"
FILES = {"onboarding-input.json": "input", "onboarding-result.json": "result"}


def contract_schemas() -> dict[str, dict[str, Any]]:
    """Each file's schema: the workflow's input (validation mode), its result (as sent)."""
    made = {
        "onboarding-input.json": OnboardingRequest.model_json_schema(mode="validation"),
        "onboarding-result.json": OnboardingResult.model_json_schema(mode="serialization"),
    }
    described = {
        "onboarding-input.json": "The input of workflow `Onboarding` (task queue `onboarding`, "
        "id `onboarding-<request_id>`), sent through the payload codec.",
        "onboarding-result.json": "The result of workflow `Onboarding`, and the `decision` "
        "update's answer is its identity part.",
    }
    return {
        name: {"$schema": DRAFT, "$id": BASE + name, **schema, "description": described[name]}
        for name, schema in made.items()
    }


def rendered(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "schema")
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in contract_schemas().items():
        (out / name).write_text(rendered(schema))
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

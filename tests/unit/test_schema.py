"""The published JSON Schema of the contract is what the models make, and it takes what
the workflow takes (and refuses what it refuses, where a schema can say)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contracts.schema import FILES, contract_schemas, rendered

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(FILES))
def test_the_schema_files_are_the_models(name: str) -> None:
    published = (ROOT / "schema" / name).read_text()
    assert published == rendered(contract_schemas()[name]), (
        f"schema/{name} is stale: run `.venv/bin/python -m contracts.schema`"
    )


def test_the_input_schema_names_what_a_request_needs() -> None:
    schema = json.loads((ROOT / "schema" / "onboarding-input.json").read_text())
    assert schema["$schema"].endswith("2020-12/schema")
    assert set(schema["required"]) == {"request_id", "subject", "selfie_ref"}
    assert schema["additionalProperties"] is False, "an unknown field is refused"
    subject = schema["$defs"]["Subject"]
    assert set(subject["required"]) == {"code", "name"}


def test_the_result_schema_carries_the_outcome_and_the_review() -> None:
    schema = json.loads((ROOT / "schema" / "onboarding-result.json").read_text())
    assert "outcome" in schema["required"]
    assert {"review", "account", "mfa", "selfie"} <= set(schema["properties"])

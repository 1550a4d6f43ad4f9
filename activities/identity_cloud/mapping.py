"""The deployment's attribute mapping: which Identity Cloud attribute holds each fact.

`IDENTITY_CLOUD_ATTRIBUTES` is a JSON object from our names to the schema's attribute paths;
a dotted path is a nested attribute (`primaryAddress.mobile`). `cpf` must name an attribute
with a `unique` constraint: it is the person's key, by which a record is found and a second
one refused. `request_id` names the provenance attribute: the onboarding that made a record.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from contracts.account import RegisterAccountInput

DEFAULT_MAPPING = {
    "cpf": "cpf",
    "name": "displayName",
    "email": "email",
    "phone": "mobileNumber",
    "request_id": "onboardingRequestId",
}
REQUIRED = ("cpf", "request_id")
FACTS = frozenset(DEFAULT_MAPPING)
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


class MappingError(ValueError):
    """The mapping setting is wrong; the message says how, in one line."""


@dataclass(frozen=True)
class AttributeMapping:
    paths: dict[str, str]  # our fact -> the attribute path

    @classmethod
    def parse(cls, text: str) -> AttributeMapping:
        try:
            raw = json.loads(text)
        except ValueError:
            raise MappingError("IDENTITY_CLOUD_ATTRIBUTES is not JSON") from None
        if not isinstance(raw, dict):
            raise MappingError("IDENTITY_CLOUD_ATTRIBUTES must be a JSON object")
        if unknown := sorted(set(raw) - FACTS):
            known = ", ".join(sorted(FACTS))
            raise MappingError(f"IDENTITY_CLOUD_ATTRIBUTES: unknown {unknown} (known: {known})")
        if missing := [fact for fact in REQUIRED if not raw.get(fact)]:
            raise MappingError(f"IDENTITY_CLOUD_ATTRIBUTES must map {', '.join(missing)}")
        paths = {fact: path for fact, path in raw.items() if path is not None}
        for fact, path in paths.items():
            if not isinstance(path, str) or not _PATH.fullmatch(path):
                raise MappingError(
                    f"IDENTITY_CLOUD_ATTRIBUTES: {fact} must be an attribute path "
                    "(letters, digits, _ and dots)"
                )
        if len(set(paths.values())) != len(paths):
            raise MappingError("IDENTITY_CLOUD_ATTRIBUTES maps two facts to one attribute")
        return cls(paths)

    @property
    def key_attribute(self) -> str:
        return self.paths["cpf"]

    @property
    def provenance_attribute(self) -> str:
        return self.paths["request_id"]

    def attributes(self, request: RegisterAccountInput) -> dict[str, Any]:
        """The record to create: the facts the request has, each at its path."""
        subject = request.subject
        facts = {
            "cpf": subject.code,
            "name": subject.name,
            "email": subject.email,
            "phone": subject.phone,
            "request_id": request.request_id,
        }
        record: dict[str, Any] = {}
        for fact, path in self.paths.items():
            if (value := facts[fact]) is not None:
                _put(record, path, value)
        return record

    def provenance(self, record: dict[str, Any]) -> Any:
        """The provenance value a record holds (None when it has none)."""
        node: Any = record
        for part in self.provenance_attribute.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return node


def _put(record: dict[str, Any], path: str, value: str) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        record = record.setdefault(part, {})
    record[leaf] = value

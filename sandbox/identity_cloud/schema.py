"""The one entity type the sandbox's application has, `user`, and the checks of a new record.

The checks run in the order the README's refusal table gives: service-set attributes, unknown
attributes, JSON types, lengths, then the required `cpf`. Uniqueness needs the other records,
so the store checks it. Descriptions name the attribute, never its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sandbox.identity_cloud.errors import EntityError

ENTITY_TYPE = "user"
SERVICE_SET = ("id", "uuid", "created", "lastUpdated")  # never written by a caller (320)


@dataclass(frozen=True)
class Attribute:
    max_length: int
    unique: bool = False
    required: bool = False
    folded: bool = False  # compared case-insensitively, as e-mail addresses are

    def key(self, value: str) -> str:
        """The form of a value that uniqueness and lookups compare."""
        return value.casefold() if self.folded else value


USER: Mapping[str, Attribute] = MappingProxyType(
    {
        "cpf": Attribute(20, unique=True, required=True),
        "email": Attribute(254, unique=True, folded=True),
        "displayName": Attribute(100),
        "givenName": Attribute(100),
        "familyName": Attribute(100),
        "mobileNumber": Attribute(30),
        "onboardingRequestId": Attribute(128),  # the worker's provenance: not unique
    }
)
UNIQUE = tuple(name for name, attribute in USER.items() if attribute.unique)  # cpf first
READABLE = frozenset((*SERVICE_SET, *USER))  # what `attributes` and filters may name


def check_type(type_name: str) -> None:
    if type_name != ENTITY_TYPE:
        raise EntityError(222, "type_name names no entity type of this application", "type_name")


def validate_new(attributes: Mapping[str, Any]) -> dict[str, str | None]:
    """The attributes of a new `user`, checked; every schema attribute present (None: unset)."""
    for name in SERVICE_SET:
        if name in attributes:
            raise EntityError(320, f"{name} is set by the service", "attributes")
    for name in attributes:
        if name not in USER:
            raise EntityError(223, f"{name} is not an attribute of user", "attributes")
    for name, value in attributes.items():
        if value is not None and not isinstance(value, str):
            raise EntityError(341, f"the value of {name} must be a string", "attributes")
    for name, value in attributes.items():
        limit = USER[name].max_length
        if value is not None and len(value) > limit:
            raise EntityError(
                363, f"the value of {name} is longer than {limit} characters", "attributes"
            )
    for name, attribute in USER.items():
        if attribute.required and not attributes.get(name):
            raise EntityError(362, f"{name} is required", "attributes")
    return {name: attributes.get(name) for name in USER}

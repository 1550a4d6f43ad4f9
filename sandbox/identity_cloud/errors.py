"""Identity Cloud's error envelope: HTTP 200 with `stat: error`, a code and its name (seed 002).

Names and the generic descriptions are the seed's. A refusal of the sandbox's own gives a
description of its own that names the field or attribute at fault, never a value: the
body may be logged by a client, and a value may be a CPF or an e-mail address.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from typing import Any

# code -> (error, error_description), from seed 002
ERRORS: Mapping[int, tuple[str, str]] = {
    100: ("missing_argument", "A required argument wasn't supplied."),
    200: ("invalid_argument", "The argument was malformed or its value was invalid."),
    201: ("duplicate_argument", "Two or more conflicting arguments were included."),
    205: ("invalid_auth_method", "The request used an invalid authentication method."),
    210: ("invalid_credentials", "The supplied email address or password was incorrect."),
    211: ("no_password", "The account only supports social login."),
    212: ("no_such_account", "The email address doesn't exist."),
    213: ("password_incorrect", "The password wasn't valid."),
    214: ("password_unacceptable", "A previously-used password can't be reused."),
    221: ("unknown_application", "The application ID doesn't exist."),
    222: ("unknown_entity_type", "The entity type doesn't exist."),
    223: ("unknown_attribute", "A specified attribute doesn't exist."),
    224: ("application_not_found", "The application can't be found on the specified domain."),
    226: ("flow_error", "The flow is misconfigured and needs to be updated."),
    232: ("entity_type_exists", "The identity type already exists."),
    233: ("attribute_exists", "The attribute already exists."),
    234: ("reserved_attribute", "A reserved attribute can't be modified."),
    300: ("error_creating_record", "An error occurred while creating a new record."),
    310: ("record_not_found", "The referenced entity doesn't exist."),
    320: ("id_in_new_record", "A new entity can't be given an ID."),
    330: ("timestamp_mismatch", "The created or lastUpdated value doesn't match."),
    340: ("invalid_data_format", "A JSON value wasn't formatted correctly."),
    341: ("invalid_json_type", "A value didn't match the expected JSON type."),
    342: ("invalid_date_time", "A date or dateTime value wasn't valid."),
    352: ("unknown_application", "A previously-used password can't be reused."),
    360: ("constraint_violation", "An attribute constraint was violated."),
    361: ("unique_violation", "A unique or locally-unique constraint was violated."),
    362: ("missing_required_attribute", "A required attribute was missing or null."),
    363: ("length_violation", "A string value violated an attribute's length constraint."),
    380: ("email_address_in_use", "An existing user already has that email address."),
    390: ("invalid_form_fields", "The data submitted did not pass form validation."),
    402: ("invalid_client_credentials", "The client ID doesn't exist or the secret is wrong."),
    403: ("client_permission_error", "The client doesn't have permission to do this."),
    413: ("no_access_grant", "The user's access grant has been deleted."),
    414: ("access_token_expired", "The supplied access token has expired."),
    415: ("authorization_code_expired", "The supplied authorization code has expired."),
    416: ("verification_code_expired", "The supplied verification code has expired."),
    417: ("creation_token_expired", "The supplied creation token has expired."),
    420: ("redirect_uri_mismatch", "The redirect URL is invalid."),
    480: ("api_feature_disabled", "The operation has been temporarily disabled."),
    500: ("unexpected_error", "An unexpected internal error occurred."),
    510: ("api_limit_error", "The request exceeds a rate limit."),
    540: ("triggered_error", "An error was triggered in the flow."),
}
UNKNOWN = ("unknown_error", "Injected fault")  # a code the seed does not list

_TOKEN_ALPHABET = string.ascii_lowercase + string.digits


def request_id() -> str:
    """The 16-character support token every error carries."""
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(16))


class EntityError(Exception):
    """An error answer of the entity API; HTTP 200 unless a fault rule says otherwise."""

    def __init__(
        self,
        code: int,
        description: str | None = None,
        argument: str | None = None,
        status_code: int = 200,
    ) -> None:
        super().__init__(code)
        self.code, self.status_code = code, status_code
        name, generic = ERRORS.get(code, UNKNOWN)
        body: dict[str, Any] = {
            "stat": "error",
            "code": code,
            "error": name,
            "error_description": description or generic,
        }
        if argument is not None:
            body["argument_name"] = argument
        body["request_id"] = request_id()
        self.body: Mapping[str, Any] = body

    @classmethod
    def internal(cls) -> EntityError:
        """A bug of ours answers as the service's own failure does."""
        return cls(500)

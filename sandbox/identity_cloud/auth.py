"""The API client's credentials: `Authorization: Basic base64(client_id:client_secret)`, or
the older scheme, `client_id` and `client_secret` as form fields.

The secret is read from the runtime settings at each call, so that `POST /_sandbox/config`
can rotate it mid-run: from then on the old one gets 402. Both parts are compared in
constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Mapping

from starlette.datastructures import Headers

from sandbox.identity_cloud.errors import EntityError


def _basic(authorization: str) -> tuple[str, str] | None:
    """client_id and secret of a Basic header; None when it is no Basic header at all."""
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")  # a Basic header that says nothing: wrong credentials
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class ClientCredentials:
    def __init__(self, client_id: str, secret: Callable[[], str]) -> None:
        self._client_id, self._secret = client_id, secret

    def check(self, headers: Headers, fields: Mapping[str, str]) -> None:
        """402 unless the call carries the configured client's current secret."""
        given = _basic(headers.get("authorization", ""))
        if given is None:
            given = (fields.get("client_id", ""), fields.get("client_secret", ""))
        right_id = _same(given[0], self._client_id)
        right_secret = _same(given[1], self._secret())
        if not (right_id and right_secret):
            raise EntityError(402, "the client ID doesn't exist or the client secret is wrong")

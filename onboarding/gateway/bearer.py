"""The one bearer-token check of the gateway: every route that takes `Authorization: Bearer`
(selfie uploads, the codec server, a webhook on `bearer`) accepts and refuses alike.

The scheme matches in any case (`Bearer`, `bearer`, `BEARER`: RFC 7235 makes it
case-insensitive); the token is compared in constant time and never logged. A refusal is
401 with a `Bearer` challenge naming the realm, and a body naming the setting (never its
value) the caller's token must equal.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from starlette.responses import JSONResponse


def carries_bearer(headers: Mapping[str, str], secret: bytes) -> bool:
    """Whether `Authorization` is `Bearer <secret>`. An empty secret accepts no one."""
    scheme, _, credential = headers.get("authorization", "").strip().partition(" ")
    if not secret or scheme.lower() != "bearer":
        return False
    # compare_digest's time depends only on the length, never on where the bytes differ.
    return hmac.compare_digest(credential.strip().encode(), secret)


@dataclass(frozen=True)
class BearerToken:
    realm: str  # named in the 401's challenge: which token the caller lacks
    setting: str  # the setting that holds it, named in the 401's body
    secret: bytes = field(repr=False)  # empty: the route refuses everyone

    def accepts(self, headers: Mapping[str, str]) -> bool:
        return carries_bearer(headers, self.secret)

    @property
    def challenge(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'Bearer realm="{self.realm}"'}

    def refusal(self) -> JSONResponse:
        """The 401 of a missing or wrong token, the same on every route."""
        message = f"unauthorized: send Authorization: Bearer <{self.setting}>"
        return JSONResponse({"error": message}, status_code=401, headers=self.challenge)

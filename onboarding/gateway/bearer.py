"""A bearer token a gateway caller must send, compared in constant time and never logged."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BearerToken:
    realm: str  # named in the 401's challenge: which token the caller lacks
    secret: bytes = field(repr=False)

    def accepts(self, headers: Mapping[str, str]) -> bool:
        scheme, _, credential = headers.get("authorization", "").strip().partition(" ")
        # compare_digest's time depends only on the length, never on where the bytes differ.
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credential.strip().encode(), self.secret
        )

    @property
    def challenge(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'Bearer realm="{self.realm}"'}

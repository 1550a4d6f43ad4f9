"""The payload codec through the gateway's codec server, for a caller that holds no key.

A calling service given a caller's codec token (CODEC_CALLER_TOKENS) seals its inputs and
opens the answers meant for it (the result, the decision, the status, the MFA answers)
through `POST <codec url>/encode` and `/decode`; anything else (another onboarding's input)
comes back sealed, and reading it fails. Holding the keyring instead opens everything.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import httpx
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

TIMEOUT_SECONDS = 10.0


class CodecServerError(RuntimeError):
    """The codec server refused or failed: its status and its error, never a payload."""


class RemoteCodec(PayloadCodec):
    def __init__(self, url: str, token: str) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self._call("encode", payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self._call("decode", payloads)

    async def _call(self, route: str, payloads: Sequence[Payload]) -> list[Payload]:
        if not payloads:
            return []
        body = {"payloads": [_as_json(payload) for payload in payloads]}
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
            try:
                response = await http.post(f"{self.url}/{route}", json=body, headers=self._headers)
            except httpx.TransportError as exc:
                raise CodecServerError(
                    f"cannot reach the codec server at {self.url} ({exc})"
                ) from None
        if response.status_code != 200:
            raise CodecServerError(
                f"the codec server answered {response.status_code} to /{route}: "
                f"{response.text.strip()[:200]}"
            )
        try:
            return [_from_json(entry) for entry in response.json()["payloads"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise CodecServerError(
                f"the codec server's /{route} answer is malformed ({exc})"
            ) from None


# Temporal's remote codec protocol: protobuf's JSON of `Payloads`, bytes in base64.
def _as_json(payload: Payload) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "metadata": {k: base64.b64encode(v).decode() for k, v in payload.metadata.items()}
    }
    if payload.data:
        entry["data"] = base64.b64encode(payload.data).decode()
    return entry


def _from_json(entry: dict[str, Any]) -> Payload:
    metadata = {k: base64.b64decode(v) for k, v in entry.get("metadata", {}).items()}
    return Payload(metadata=metadata, data=base64.b64decode(entry.get("data", "")))

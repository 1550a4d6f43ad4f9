"""The payload codec through the gateway's codec server, for a caller that holds no key.

A calling service given a caller's codec token (CODEC_CALLER_TOKENS) seals its inputs and
opens the answers meant for it (the result, the decision, the status, the MFA answers)
through `POST <codec url>/encode` and `/decode`; anything else (another onboarding's input)
comes back sealed, and reading it fails. Holding the keyring instead opens everything.
"""

from __future__ import annotations

import asyncio
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
    """One HTTP client per event loop, made at its first call there and kept: an httpx
    client's connections belong to the loop that opened them, and a process may run several
    loops in turn (tests, or `asyncio.run` twice)."""

    def __init__(
        self, url: str, token: str, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._transport = transport  # None: httpx's own, over the network
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self._call("encode", payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self._call("decode", payloads)

    async def aclose(self) -> None:
        """Close the running loop's client (a later call opens another)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if (client := self._clients.get(loop)) is None:
            for old in list(self._clients):
                if old.is_closed():  # its client can serve no more
                    self._clients.pop(old, None)
            client = httpx.AsyncClient(
                timeout=TIMEOUT_SECONDS, headers=self._headers, transport=self._transport
            )
            self._clients[loop] = client
        return client

    async def _call(self, route: str, payloads: Sequence[Payload]) -> list[Payload]:
        if not payloads:
            return []
        body = {"payloads": [_as_json(payload) for payload in payloads]}
        try:
            response = await self._client().post(f"{self.url}/{route}", json=body)
        except httpx.TransportError as exc:
            raise CodecServerError(f"cannot reach the codec server at {self.url} ({exc})") from None
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

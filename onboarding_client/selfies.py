"""The selfie's way in: uploaded to the gateway, which answers a ref; only the ref enters
Temporal (a claim check), so no image ever reaches the server's history."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx

# A gateway with GATEWAY_MAX_CONCURRENT_UPLOADS in flight answers 503 and Retry-After: so
# many tries, each wait at most so long, before the caller hears of it.
UPLOAD_ATTEMPTS = 10
MAX_UPLOAD_WAIT_SECONDS = 5.0


class SelfieRefused(ValueError):
    """The gateway refused the upload: the message says why (never the image)."""


class GatewayUnreachable(ConnectionError):
    """The gateway could not be reached."""


async def store_selfie(
    gateway_url: str, token: str | None, selfie: bytes, preview: bytes | None = None
) -> str:
    """Upload the selfie to the gateway's claim-check store, with the gateway's bearer
    `token`; only the ref it answers (`selfie_ref`) enters Temporal.

    `selfie` is a plain image (PNG, JPEG or WebP bytes) or a capture of Unico's SDK (its
    `encrypted` string, as bytes), told apart by content. Beside a capture, `preview` is the
    image the person saw (the SDK's `base64`, decoded or not): kept for reviewers only,
    never sent to Unico, deleted with the capture. `SelfieRefused` when the gateway refuses
    (its reason in the message), `GatewayUnreachable` when it cannot be reached.
    """
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    body = _upload_body(selfie, preview)
    try:
        async with httpx.AsyncClient(timeout=30, headers=headers) as http:
            for attempt in range(1, UPLOAD_ATTEMPTS + 1):
                response = await http.post(gateway_url.rstrip("/") + "/selfies", **body)
                if response.status_code != 503 or attempt == UPLOAD_ATTEMPTS:
                    break
                await asyncio.sleep(busy_gateway_wait(response))
    except httpx.TransportError as exc:
        raise GatewayUnreachable(f"cannot reach the gateway at {gateway_url} ({exc})") from None
    if response.status_code == 401:
        raise SelfieRefused(
            f"the gateway at {gateway_url} refused the upload: GATEWAY_API_TOKEN is missing or "
            "not the gateway's"
        )
    if response.status_code != 201:
        raise SelfieRefused(f"the gateway refused the selfie: {response.text.strip()}")
    return str(response.json()["selfie_ref"])


def _upload_body(selfie: bytes, preview: bytes | None) -> dict[str, Any]:
    """The raw body for a selfie alone; a multipart body when a preview goes with it."""
    if preview is None:
        return {"content": selfie, "headers": {"Content-Type": "application/octet-stream"}}
    kind = "application/octet-stream"
    return {"files": {"selfie": ("selfie", selfie, kind), "preview": ("preview", preview, kind)}}


def busy_gateway_wait(response: httpx.Response) -> float:
    """Seconds to wait after the gateway's 503 (its uploads in flight at their limit): its
    Retry-After, capped, plus a jitter so that callers turned away together spread out."""
    retry_after = response.headers.get("retry-after", "")
    seconds = min(float(retry_after), MAX_UPLOAD_WAIT_SECONDS) if retry_after.isdigit() else 1.0
    return seconds + random.uniform(0, 0.5)

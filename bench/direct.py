"""What a team would write without Temporal: asyncio + httpx, straight at Unico.

Per onboarding: a fresh token (no cache shared between onboardings), create, then read
the process every `poll_seconds` until it is final. No retries: on the sandbox's happy
path there is nothing to retry, and this is the floor, not a rival implementation.
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import httpx

from activities.unico import UnicoSettings
from activities.unico.auth import GRANT_TYPE, MIN_ASSERTION_SECONDS, ServiceAccount, build_assertion

MAX_POLLS = 600  # a bound, far above what a 1 s delay needs


async def onboard_all(
    settings: UnicoSettings, cpfs: list[str], image: bytes, poll_seconds: float, first: int = 0
) -> list[tuple[str, float, float]]:
    """(cpf, started, finished) per onboarding, all run concurrently, monotonic seconds.

    `first` numbers the assertions of a later call on from there (each needs its own)."""
    account = service_account(settings)
    image_b64 = base64.b64encode(image).decode("ascii")
    async with httpx.AsyncClient(timeout=30) as http:
        return await asyncio.gather(
            *(
                _onboard(http, settings, account, cpf, image_b64, poll_seconds, index)
                for index, cpf in enumerate(cpfs, start=first)
            )
        )


def service_account(settings: UnicoSettings) -> ServiceAccount:
    assert settings.service_account and settings.private_key_file
    return ServiceAccount.from_key_file(
        settings.service_account,
        settings.token_audience,
        settings.token_url,
        settings.private_key_file,
    )


async def get_token(
    http: httpx.AsyncClient, settings: UnicoSettings, account: ServiceAccount, index: int
) -> dict[str, str]:
    """The headers of Unico's calls, with a new token."""
    # A distinct `exp` per assertion: identical assertions in one second are refused.
    assertion = build_assertion(account, time.time(), MIN_ASSERTION_SECONDS + index)
    token = await http.post(
        settings.token_url, data={"grant_type": GRANT_TYPE, "assertion": assertion}
    )
    token.raise_for_status()
    return {
        "Authorization": f"Bearer {token.json()['access_token']}",
        "APIKEY": settings.api_key or "",
    }


async def create_process(
    http: httpx.AsyncClient,
    settings: UnicoSettings,
    headers: dict[str, str],
    cpf: str,
    image_b64: str,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "subject": {"code": cpf, "name": "Pessoa Bench"},
        "useCase": "Onboarding",
        "imageBase64": image_b64,
    }
    created = await http.post(_processes(settings), json=body, headers=headers)
    created.raise_for_status()
    process: dict[str, Any] = created.json()
    return process


async def read_process(
    http: httpx.AsyncClient, settings: UnicoSettings, headers: dict[str, str], process_id: str
) -> dict[str, Any]:
    read = await http.get(f"{_processes(settings)}/{process_id}", headers=headers)
    read.raise_for_status()
    process: dict[str, Any] = read.json()
    return process


def _processes(settings: UnicoSettings) -> str:
    return settings.api_url.rstrip("/") + "/processes/v1"


async def _onboard(
    http: httpx.AsyncClient,
    settings: UnicoSettings,
    account: ServiceAccount,
    cpf: str,
    image_b64: str,
    poll_seconds: float,
    index: int,
) -> tuple[str, float, float]:
    started = time.monotonic()
    headers = await get_token(http, settings, account, index)
    process = await create_process(http, settings, headers, cpf, image_b64)
    for _ in range(MAX_POLLS):
        if process["status"] != 1:
            break
        await asyncio.sleep(poll_seconds)
        process = await read_process(http, settings, headers, process["id"])
    return cpf, started, time.monotonic()

"""A calling service's onboarding, with the caller's client alone (`onboarding_client`).

    python examples/python/calling.py [--cpf CPF] [--name NAME] [--request-id ID] [--selfie PATH]

Configuration comes from the environment (`CallerConfig.from_environment`):
ONBOARDING_ENCRYPTION_KEYS (or _FILE), GATEWAY_URL, GATEWAY_API_TOKEN (or _FILE),
ONBOARDING_TASK_QUEUE and Temporal's own variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
...). Without `--selfie` it uploads a plain 640x480 PNG it draws itself.

It stores the selfie, starts the onboarding with update-with-start and prints the identity
decision as soon as it exists, then waits for the whole onboarding and prints its result.
Started again with the same request id, it joins the same onboarding (or reads the ended
one) instead of starting a second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import struct
import sys
import uuid
import zlib
from pathlib import Path

from temporalio.exceptions import TemporalError

from onboarding_client import (
    CallerConfig,
    GatewayUnreachable,
    SelfieRefused,
    connect,
    result_of,
    start_for_decision,
    store_selfie,
)
from onboarding_client.config import CallerConfigError
from onboarding_client.contract.request import OnboardingRequest, Subject
from onboarding_client.contract.result import IdentityDecision

# Unico's smallest accepted selfie: 640x480 (the gateway and the worker refuse less).
WIDTH, HEIGHT = 640, 480


def sample_png(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """A grey gradient as a PNG (8-bit greyscale), drawn with the standard library."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    rows = b"".join(b"\0" + bytes((x + y) % 256 for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(rows, 9)),
            chunk(b"IEND", b""),
        ]
    )


def line(label: str, answer: IdentityDecision) -> str:
    reasons = ",".join(reason.code for reason in answer.reasons) or "-"
    return f"{label}: outcome={answer.outcome} attempts={answer.attempts} reasons={reasons}"


async def onboard(args: argparse.Namespace) -> None:
    config = CallerConfig.from_environment()
    selfie = args.selfie.read_bytes() if args.selfie else sample_png()
    selfie_ref = await store_selfie(config.gateway_url, config.gateway_token, selfie)
    print(f"selfie: {selfie_ref}", flush=True)

    request = OnboardingRequest(
        request_id=args.request_id or f"example-{uuid.uuid4().hex[:12]}",
        subject=Subject(code=args.cpf, name=args.name),
        selfie_ref=selfie_ref,
    )
    client = await connect(config)
    # Update-with-start: starts (or joins) the onboarding and answers with its identity
    # decision; an onboarding that already ended answers from its result.
    handle, decision = await start_for_decision(client, request, config.task_queue)
    print(f"workflow: {handle.id}", flush=True)
    print(line("decision", decision), flush=True)
    # The whole journey (review, account, MFA when asked for) ends later.
    print(line("result", await result_of(client, request.request_id)), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Onboard a person through onboarding_client.")
    parser.add_argument("--cpf", default="12345678909", help="the person's CPF (a test CPF here)")
    parser.add_argument("--name", default="Maria Silva")
    parser.add_argument("--request-id", help="the idempotency key (default: a new one)")
    parser.add_argument("--selfie", type=Path, help="an image file (default: a generated PNG)")
    args = parser.parse_args(argv)
    try:
        asyncio.run(onboard(args))
    except (CallerConfigError, SelfieRefused, GatewayUnreachable, OSError, ValueError) as exc:
        print(f"calling: {exc}", file=sys.stderr)
        return 2
    except (TemporalError, RuntimeError) as exc:  # RuntimeError: Temporal cannot be reached
        print(f"calling: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    code = main()
    # The Temporal client's Rust runtime can abort CPython's teardown (temporalio/sdk-python
    # issue #300, "PyGILState_Release"): leave without it, once the output is out.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

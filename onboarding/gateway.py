"""The gateway: the worker's HTTP service.

It takes selfie uploads (`POST /selfies`, the claim check of step 1 of the flow, from
callers that send `Authorization: Bearer <GATEWAY_API_TOKEN>`), Unico's webhook
(`POST /webhooks/unico`, see `onboarding.webhook`; served when WEBHOOK_AUTH is not `off`),
answers health checks (`GET /healthz`, open, and it says nothing) and serves the codec server
for the Web UI and the CLI (`/codec/encode`, `/codec/decode`: see `onboarding.codec_server`).
GATEWAY_ROUTES picks which of `selfies`, `webhook` and `codec` one gateway serves, so that
the webhook, the one route that must face the internet, can be served apart.

The upload does not inspect the image: the workflow's activity does, so that a bad selfie
ends as `invalid_request` with its proper Unico code rather than as an HTTP error here.
Run it with `python -m onboarding.gateway`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from temporalio.client import Client
from temporalio.converter import PayloadCodec

from activities.selfies import InvalidSelfie, SelfieBackend
from onboarding.bearer import BearerToken
from onboarding.client import connect
from onboarding.codec import EncryptionCodec
from onboarding.codec_server import codec_mount
from onboarding.keys import load_keyring
from onboarding.logs import configure_logging
from onboarding.selfies import open_selfie_store
from onboarding.settings import Settings, SettingsError, load_settings
from onboarding.temporal.connection import StackUnavailable
from onboarding.webhook import WebhookReceiver, webhook_route
from onboarding.webhook_auth import WebhookAuth, webhook_auth

logger = logging.getLogger("onboarding.gateway")

SELFIE_FIELD = "selfie"
# Room for the boundaries and part headers around the image in a multipart body.
MULTIPART_OVERHEAD = 64 * 1024

_USAGE = (
    "send the selfie as the raw body (Content-Type image/* or application/octet-stream) "
    f"or as the file field {SELFIE_FIELD!r} of a multipart/form-data body"
)


class _UploadRefused(Exception):
    """A client error with its status; its message goes back as `{"error": ...}`."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class GatewayRoutes:
    """What GATEWAY_ROUTES asks this gateway to serve, each with what it needs.

    A route without it stops the start (`SettingsError`): uploads without their token, a
    webhook scheme without its credentials.
    """

    uploads: BearerToken | None
    webhook: WebhookAuth | None
    codec: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> GatewayRoutes:
        names = settings.gateway_route_names
        return cls(
            uploads=upload_token(settings) if "selfies" in names else None,
            webhook=webhook_auth(settings) if "webhook" in names else None,
            codec="codec" in names,
        )


def upload_token(settings: Settings) -> BearerToken:
    """The token selfie uploads must carry; without one the gateway must not take uploads."""
    token = settings.gateway_api_token
    if token is None or not token.get_secret_value().strip():
        raise SettingsError(
            "GATEWAY_API_TOKEN is not set: POST /selfies would take uploads from anyone; set "
            "it, or leave selfies out of GATEWAY_ROUTES"
        )
    return BearerToken("selfies", token.get_secret_value().strip().encode())


def create_gateway(
    settings: Settings,
    store: SelfieBackend,
    codec: PayloadCodec | None = None,
    *,
    temporal: Client | None = None,
) -> Starlette:
    """The gateway app, serving the routes GATEWAY_ROUTES names (see `GatewayRoutes`).

    The webhook signals onboardings through `temporal`; the codec server is served when a
    `codec` is given.
    """
    serves = GatewayRoutes.from_settings(settings)
    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    if serves.uploads is not None:
        routes.append(Route("/selfies", _upload_route(store, serves.uploads), methods=["POST"]))
    if serves.webhook is not None:
        if temporal is None:
            raise ValueError("the webhook needs a Temporal client to signal onboardings")
        receiver = WebhookReceiver(serves.webhook, temporal, settings.webhook_retry_after_seconds)
        routes.append(webhook_route(receiver))
    if codec is not None and serves.codec:
        routes.append(codec_mount(settings, codec))
    return Starlette(routes=routes)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def _upload_route(
    store: SelfieBackend, token: BearerToken
) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def upload_selfie(request: Request) -> JSONResponse:
        if not token.accepts(request.headers):
            # Refused before the body is read: nothing is stored, and only this is logged.
            logger.info("selfie upload refused: no valid credentials")
            return JSONResponse(
                {"error": "unauthorized: send Authorization: Bearer <GATEWAY_API_TOKEN>"},
                status_code=401,
                headers=token.challenge,
            )
        try:
            data = await _selfie_bytes(request, store.max_bytes)
            ref = await run_in_threadpool(store.put, data)  # file I/O off the event loop
        except _UploadRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status_code)
        except InvalidSelfie as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"selfie_ref": ref}, status_code=201)

    return upload_selfie


async def _selfie_bytes(request: Request, max_bytes: int) -> bytes:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        body = await _read_body(request, max_bytes + MULTIPART_OVERHEAD)
        return await _multipart_selfie(request.headers, body)
    if content_type.startswith("image/") or content_type == "application/octet-stream":
        return await _read_body(request, max_bytes)
    raise _UploadRefused(_USAGE, status_code=415)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes `limit`: a large upload is never buffered."""
    too_large = _UploadRefused(f"the upload is larger than the {limit} byte limit")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def _multipart_selfie(headers: Headers, body: bytes) -> bytes:
    # Parse the already bounded body, so the parser never reads past the limit.
    async def replay() -> AsyncGenerator[bytes, None]:
        yield body

    parser = MultiPartParser(headers, replay(), max_files=1, max_fields=16)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise _UploadRefused(f"malformed multipart body: {exc.message}") from None
    try:
        part = form.get(SELFIE_FIELD)
        if not isinstance(part, UploadFile):
            # A plain text field would have been decoded as text, mangling the image.
            raise _UploadRefused(f"no file field {SELFIE_FIELD!r}: {_USAGE}")
        return await part.read()
    finally:
        await form.close()


async def serve_gateway(settings: Settings) -> None:
    """Serve the gateway on `gateway_host:gateway_port` until interrupted."""
    codec = EncryptionCodec(load_keyring(settings))
    # Lazy: the gateway starts, and takes selfies, while Temporal is still down; a wrong
    # connection setting still stops it here. Its signals carry encrypted payloads.
    serves = GatewayRoutes.from_settings(settings)  # what is missing stops it before anything
    temporal = await connect(settings, lazy=True) if serves.webhook else None
    app = create_gateway(settings, open_selfie_store(settings), codec, temporal=temporal)
    # log_config=None: uvicorn's records go through our JSON, redacting handler.
    config = uvicorn.Config(
        app, host=settings.gateway_host, port=settings.gateway_port, log_config=None
    )
    await uvicorn.Server(config).serve()


def main() -> int:
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        asyncio.run(serve_gateway(settings))
    except (SettingsError, StackUnavailable) as exc:
        print(f"onboarding.gateway: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    code = main()
    # Skip interpreter teardown, which the Temporal runtime's threads can abort
    # (temporalio/sdk-python issue #300) after the one line was printed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)

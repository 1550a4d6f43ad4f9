"""The gateway: the worker's HTTP service.

It takes selfie uploads (`POST /selfies`, the claim check of step 1 of the flow), Unico's
webhook (`POST /webhooks/unico`, see `onboarding.webhook`; served when WEBHOOK_AUTH is not
`off`) and answers health checks (`GET /healthz`). The codec server for the Web UI joins
it in `create_gateway`'s route table.

The upload does not inspect the image: the workflow's activity does, so that a bad selfie
ends as `invalid_request` with its proper Unico code rather than as an HTTP error here.
Run it with `python -m onboarding.gateway`.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from activities.selfies import InvalidSelfie, SelfieBackend, SelfieStore
from onboarding.client import StackUnavailable, connect
from onboarding.settings import Settings, SettingsError, load_settings
from onboarding.webhook import WebhookReceiver, webhook_route
from onboarding.webhook_auth import webhook_auth

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


def create_gateway(settings: Settings, store: SelfieBackend) -> Starlette:
    """The gateway app; `settings` configures the webhook receiver (and the codec server)."""
    auth = webhook_auth(settings)  # a scheme without its credentials stops the start here

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if auth is not None:
            # Lazy: the gateway starts, and takes selfies, while Temporal is still down.
            temporal = await connect(settings, lazy=True)
            retry_after = settings.webhook_retry_after_seconds
            app.state.unico_webhook = WebhookReceiver(auth, temporal, retry_after)
        yield

    async def upload_selfie(request: Request) -> JSONResponse:
        try:
            data = await _selfie_bytes(request, store.max_bytes)
            ref = await run_in_threadpool(store.put, data)  # file I/O off the event loop
        except _UploadRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status_code)
        except InvalidSelfie as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"selfie_ref": ref}, status_code=201)

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [
        Route("/selfies", upload_selfie, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        *([webhook_route()] if auth is not None else []),
        # The codec server's routes go here.
    ]
    return Starlette(routes=routes, lifespan=lifespan)


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


def run_gateway(settings: Settings) -> None:
    """Serve the gateway on `gateway_host:gateway_port` until interrupted."""
    app = create_gateway(settings, SelfieStore(settings.selfie_dir))
    uvicorn.run(app, host=settings.gateway_host, port=settings.gateway_port)


def main() -> None:
    try:
        run_gateway(load_settings())
    except (SettingsError, StackUnavailable) as exc:
        print(f"onboarding.gateway: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()

"""`POST /selfies`: the claim check of the flow's first step, for callers with the token.

The selfie (a plain image, or a capture of Unico's SDK: told apart by content, later) is the
raw body (image/* or application/octet-stream) or the `selfie` file field of a multipart body,
streamed and refused as soon as it passes the store's limit, so a large upload is never
buffered. Beside a capture, the multipart body's `preview` file field may carry the image the
person saw (the SDK's `base64`, as bytes or as its base64 text): checked here (`preview`),
since Unico never sees it, and kept only as a reviewer's evidence. The upload does not inspect
the selfie: the workflow's activity does, so that a bad selfie ends as `invalid_request` with
its proper Unico code rather than as an HTTP error here. A caller without
`Authorization: Bearer <GATEWAY_API_TOKEN>` is refused before the body is read: nothing is
stored, and only the refusal is logged. An upload past
GATEWAY_MAX_CONCURRENT_UPLOADS in flight is turned away (503, Retry-After) before its body is
read too (`upload_slots`), so the gateway holds at most that many images in memory.
"""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import NamedTuple

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from activities.selfies import MAX_PREVIEW_BYTES, InvalidSelfie, SelfieBackend, preview_image
from onboarding.gateway.bearer import BearerToken
from onboarding.gateway.upload_slots import UploadSlots
from onboarding.runtime.errors import SettingsError
from onboarding.runtime.secrets import load_gateway_token
from onboarding.runtime.settings import Settings

logger = logging.getLogger("onboarding.gateway.uploads")

UPLOAD_PATH = "/selfies"
SELFIE_FIELD = "selfie"
PREVIEW_FIELD = "preview"
# Room for the boundaries and part headers around the image in a multipart body.
MULTIPART_OVERHEAD = 64 * 1024
# A preview may come as base64 text: 4 bytes for every 3 of the image.
PREVIEW_FIELD_BYTES = MAX_PREVIEW_BYTES * 4 // 3 + 4

_USAGE = (
    "send the selfie as the raw body (Content-Type image/* or application/octet-stream) "
    f"or as the file field {SELFIE_FIELD!r} of a multipart/form-data body"
)


class _UploadRefused(Exception):
    """A client error with its status; its message goes back as `{"error": ...}`."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


def upload_token(settings: Settings) -> BearerToken:
    """The token selfie uploads must carry; without one the gateway must not take uploads."""
    token = load_gateway_token(settings)
    if token is None:
        raise SettingsError(
            "GATEWAY_API_TOKEN is not set: POST /selfies would take uploads from anyone; set "
            "it (or GATEWAY_API_TOKEN_FILE), or leave selfies out of GATEWAY_ROUTES"
        )
    secret = token.get_secret_value().strip().encode()
    return BearerToken("selfies", "GATEWAY_API_TOKEN", secret)


def upload_route(store: SelfieBackend, token: BearerToken, slots: UploadSlots) -> Route:
    return Route(UPLOAD_PATH, _upload_endpoint(store, token, slots), methods=["POST"])


def _upload_endpoint(
    store: SelfieBackend, token: BearerToken, slots: UploadSlots
) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def upload_selfie(request: Request) -> JSONResponse:
        if not token.accepts(request.headers):
            # Refused before the body is read: nothing is stored, and only this is logged.
            logger.info("selfie upload refused: no valid credentials")
            return token.refusal()
        if not slots.try_take():
            # Turned away before the body is read, so memory stays bounded by the limit.
            logger.info("selfie upload turned away: %d upload(s) in flight", slots.limit)
            busy = f"{slots.limit} upload(s) in flight, the gateway's limit: retry shortly"
            return JSONResponse({"error": busy}, status_code=503, headers=slots.retry_after)
        logger.debug("selfie upload admitted: %d of %d in flight", slots.in_flight, slots.limit)
        try:
            upload = await _upload(request, store.max_bytes)
            ref = await run_in_threadpool(_keep, store, upload)  # file I/O off the event loop
        except _UploadRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status_code)
        except InvalidSelfie as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        finally:
            slots.release()
        return JSONResponse({"selfie_ref": ref}, status_code=201)

    return upload_selfie


class _Upload(NamedTuple):
    selfie: bytes
    preview: bytes | None = None


def _keep(store: SelfieBackend, upload: _Upload) -> str:
    """Store the selfie and its preview (checked first, so a bad one leaves nothing)."""
    preview = None if upload.preview is None else preview_image(upload.preview, upload.selfie)
    ref = store.put(upload.selfie)
    if preview is not None:
        try:
            store.put_preview(ref, preview)
        except BaseException:
            store.delete(ref)  # no capture stays without the evidence its caller sent
            raise
    return ref


async def _upload(request: Request, max_bytes: int) -> _Upload:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        body = _bounded_body(request, max_bytes + PREVIEW_FIELD_BYTES + MULTIPART_OVERHEAD)
        return await _multipart_upload(request.headers, body)
    if content_type.startswith("image/") or content_type == "application/octet-stream":
        return _Upload(await _collected(_bounded_body(request, max_bytes)))
    raise _UploadRefused(_USAGE, status_code=415)


async def _bounded_body(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    """The body's chunks as they arrive, refused as soon as they pass `limit`."""
    too_large = _UploadRefused(f"the upload is larger than the {limit} byte limit")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large
        yield chunk


async def _collected(chunks: AsyncGenerator[bytes, None]) -> bytes:
    # BytesIO hands its own buffer over in getvalue(), where a join would copy every chunk
    # into a second image-sized buffer.
    buffer = io.BytesIO()
    async for chunk in chunks:
        buffer.write(chunk)
    return buffer.getvalue()


async def _multipart_upload(headers: Headers, body: AsyncGenerator[bytes, None]) -> _Upload:
    # The parser reads the bounded stream as it comes: never the whole body at once, never
    # past the limit (it closes what it spooled when the stream refuses).
    parser = MultiPartParser(headers, body, max_files=2, max_fields=16)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise _UploadRefused(f"malformed multipart body: {exc.message}") from None
    try:
        files = {name for name, value in form.multi_items() if isinstance(value, UploadFile)}
        if unexpected := files - {SELFIE_FIELD, PREVIEW_FIELD}:
            raise _UploadRefused(
                f"unexpected file field(s) {sorted(unexpected)} in the multipart body: "
                f"send {SELFIE_FIELD!r} and, beside a capture, {PREVIEW_FIELD!r}"
            )
        part = form.get(SELFIE_FIELD)
        if not isinstance(part, UploadFile):
            # A plain text field would have been decoded as text, mangling the image.
            raise _UploadRefused(f"no file field {SELFIE_FIELD!r}: {_USAGE}")
        preview = form.get(PREVIEW_FIELD)
        if preview is not None and not isinstance(preview, UploadFile):
            raise _UploadRefused(f"{PREVIEW_FIELD!r} must be a file field, as the selfie is")
        # Each part is held to its own limit by the store and `preview_image`.
        return _Upload(await part.read(), None if preview is None else await preview.read())
    finally:
        await form.close()

"""The codec server: Temporal's remote codec protocol, for the Web UI and the `temporal` CLI.

`POST <mount>/encode` and `POST <mount>/decode` take and answer `{"payloads": [...]}`, the
protobuf JSON of `temporal.api.common.v1.Payloads` (base64 `data` and metadata values). The
UI calls `/decode` from the browser, so the routes answer CORS preflights for the configured
origins, allowing the `Authorization` and `X-Namespace` headers the UI and CLI send.

Authentication: `Authorization: Bearer <CODEC_AUTH_TOKEN>` (an operator: the Web UI, the
CLI, the console), or one of CODEC_CALLER_TOKENS (a calling service: `/encode`, and from
`/decode` only the answers meant for it, `caller_scope.py`; anything else comes back still
sealed), checked as on every route of the gateway (`bearer`); anything else is 401.
Temporal's UI can attach only its own OIDC login token, and only over HTTPS, so the local
stack's UI (plain HTTP, no login) cannot send ours. For it alone,
`CODEC_DEV_TRUSTED_ORIGINS` lets calls whose `Origin` is the UI's go without a token: to
`/decode`, to show payloads, and to `/encode`, which the UI calls to seal what an operator
types in "send update" (a reviewer's note). Encoding reveals nothing: it only seals. A
browser sets `Origin` itself and no page can forge it, but any local program can: it is a
development convenience and must stay empty in production.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from google.protobuf.json_format import MessageToJson, Parse, ParseError
from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from onboarding.gateway.bearer import BearerToken
from onboarding.gateway.caller_scope import meant_for_callers
from onboarding.runtime.secrets import load_caller_tokens
from onboarding.runtime.settings import Settings
from onboarding_client.codec import DecryptionError, UnknownKeyError

logger = logging.getLogger("onboarding.gateway.codec_server")

CODEC_PATH = "/codec"
MAX_BODY_BYTES = 16 * 1024 * 1024  # a history page of payloads; far above any onboarding's
CORS_HEADERS = ["Authorization", "Content-Type", "X-Namespace"]

Convert = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


def split_origins(value: str) -> list[str]:
    return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]


OPERATOR = "operator"


class CodecAuth:
    """Who may use the codec: an operator (the bearer token, or a trusted dev origin), or a
    calling service (its own token, by name)."""

    def __init__(
        self,
        token: str | None,
        dev_trusted_origins: Sequence[str] = (),
        caller_tokens: Mapping[str, str] | None = None,
    ) -> None:
        # No token: an empty secret, which accepts no one.
        self.token = BearerToken("codec", "CODEC_AUTH_TOKEN", (token or "").encode())
        self._trusted = frozenset(dev_trusted_origins)
        self._callers = {
            name: BearerToken("codec", "CODEC_CALLER_TOKENS", secret.encode())
            for name, secret in (caller_tokens or {}).items()
        }

    def who(self, request: Request) -> str | None:
        """`OPERATOR`, a caller's name, or None (refused)."""
        if self.token.accepts(request.headers):
            return OPERATOR
        for name, token in self._callers.items():
            if token.accepts(request.headers):
                return name
        if request.headers.get("origin", "") in self._trusted:
            return OPERATOR
        return None


def codec_app(codec: PayloadCodec, auth: CodecAuth, cors_origins: Sequence[str]) -> ASGIApp:
    """The `/encode` and `/decode` routes, to mount where the UI's codec endpoint points."""

    def endpoint(convert: Convert, *, opens: bool) -> Callable[[Request], Awaitable[Response]]:
        async def handle(request: Request) -> Response:
            who = auth.who(request)
            if who is None:
                return auth.token.refusal()
            if opens and who != OPERATOR:
                return await _convert(request, _for_callers(convert), caller=who)
            return await _convert(request, convert)

        return handle

    app = Starlette(
        routes=[
            Route("/encode", endpoint(codec.encode, opens=False), methods=["POST"]),
            Route("/decode", endpoint(codec.decode, opens=True), methods=["POST"]),
        ]
    )
    return CORSMiddleware(
        app,
        allow_origins=list(cors_origins),
        allow_methods=["POST"],
        allow_headers=CORS_HEADERS,
        allow_credentials=True,  # the UI's "include cross-origin credentials" option
        max_age=600,
    )


def codec_mount(settings: Settings, codec: PayloadCodec) -> Mount:
    """The codec server at `/codec`, configured from the settings."""
    secret = settings.codec_auth_token
    token = secret.get_secret_value() if secret else None
    trusted = split_origins(settings.codec_dev_trusted_origins)
    if token is None:
        logger.warning("CODEC_AUTH_TOKEN is not set: the codec server refuses every caller")
    if trusted:
        logger.warning(
            "CODEC_DEV_TRUSTED_ORIGINS is set: calls from %s need no token (dev only)",
            ", ".join(trusted),
        )
    cors = split_origins(settings.codec_cors_origins)
    auth = CodecAuth(token, trusted, load_caller_tokens(settings))
    return Mount(CODEC_PATH, app=codec_app(codec, auth, cors))


def _for_callers(decode: Convert) -> Convert:
    """`decode`, keeping sealed what is not an answer meant for a calling service."""

    async def opened_for_callers(payloads: Sequence[Payload]) -> list[Payload]:
        opened = await decode(payloads)
        return [
            shown if meant_for_callers(shown) else sealed
            for sealed, shown in zip(payloads, opened, strict=True)
        ]

    return opened_for_callers


async def _convert(request: Request, convert: Convert, caller: str | None = None) -> Response:
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        return JSONResponse({"error": "a Content-Length is required"}, status_code=411)
    if int(declared) > MAX_BODY_BYTES:
        return JSONResponse({"error": f"the body is over {MAX_BODY_BYTES} bytes"}, status_code=413)
    try:
        incoming = Parse(await request.body(), Payloads())
    except (ParseError, UnicodeDecodeError):
        return JSONResponse({"error": 'the body must be {"payloads": [...]}'}, status_code=400)
    try:
        converted = await convert(incoming.payloads)
    except (UnknownKeyError, DecryptionError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)
    logger.info(
        "codec %s: %d payload(s)",
        request.url.path.rsplit("/", 1)[-1],
        len(converted),
        extra={"namespace": request.headers.get("x-namespace"), "caller": caller},
    )
    body = MessageToJson(Payloads(payloads=converted), indent=None)
    return Response(body, media_type="application/json")

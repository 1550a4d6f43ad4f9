"""The gateway app: which routes it serves, and serving them (`python -m onboarding.gateway`).

Selfie uploads (`POST /selfies`, `uploads`), Unico's webhook (`POST /webhooks/unico`,
`webhook`; when WEBHOOK_AUTH is not `off`), the codec server for the Web UI and the CLI
(`/codec/encode`, `/codec/decode`, `codec_server`) and health (`GET /healthz`, open, and it
says nothing). GATEWAY_ROUTES picks which of `selfies`, `webhook` and `codec` one gateway
serves, so that the webhook, the one route that must face the internet, can be served apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from temporalio.client import Client
from temporalio.converter import PayloadCodec

from activities.selfies import SelfieBackend
from onboarding.gateway.bearer import BearerToken
from onboarding.gateway.codec_server import codec_mount
from onboarding.gateway.upload_slots import UploadSlots
from onboarding.gateway.uploads import upload_route, upload_token
from onboarding.gateway.webhook import WebhookReceiver, webhook_route
from onboarding.gateway.webhook_auth import WebhookAuth, webhook_auth
from onboarding.runtime.entry import run_service
from onboarding.runtime.secrets import load_keyring
from onboarding.runtime.settings import Settings, selfie_store
from onboarding.temporal.client import connect
from onboarding_client.codec import EncryptionCodec


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
        slots = UploadSlots(settings.gateway_max_concurrent_uploads)
        routes.append(upload_route(store, serves.uploads, slots))
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


async def serve_gateway(settings: Settings) -> None:
    """Serve the gateway on `gateway_host:gateway_port` until interrupted."""
    codec = EncryptionCodec(load_keyring(settings))
    # Lazy: the gateway starts, and takes selfies, while Temporal is still down; a wrong
    # connection setting still stops it here. Its signals carry encrypted payloads.
    serves = GatewayRoutes.from_settings(settings)  # what is missing stops it before anything
    temporal = await connect(settings, lazy=True) if serves.webhook else None
    app = create_gateway(settings, selfie_store(), codec, temporal=temporal)
    # log_config=None: uvicorn's records go through our JSON, redacting handler.
    config = uvicorn.Config(
        app, host=settings.gateway_host, port=settings.gateway_port, log_config=None
    )
    await uvicorn.Server(config).serve()


def main() -> int:
    return run_service("onboarding.gateway", serve_gateway)

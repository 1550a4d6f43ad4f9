"""The console's application: its routes, sessions and templates, and how it is served
(`python -m onboarding.console`)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from temporalio.client import Client

from activities.selfies import SelfieBackend
from contracts.evidence import EvidenceSeal
from onboarding.console import login
from onboarding.console.audit import EvidenceAudit
from onboarding.console.pages import Console
from onboarding.console.reasons import load_reasons
from onboarding.console.sessions import csrf_ok, current_reviewer
from onboarding.runtime.console_settings import ConsoleSettings
from onboarding.runtime.entry import run_service
from onboarding.runtime.secrets import load_keyring
from onboarding.runtime.settings import Settings, read_settings, selfie_store
from onboarding.temporal.client import connect

logger = logging.getLogger("onboarding.console")

HERE = Path(__file__).parent
SESSION_COOKIE = "onboarding_console"
# A session cookie lasts at most a working day; the idle timeout ends it sooner.
SESSION_MAX_AGE = 12 * 3600


def create_console(
    settings: ConsoleSettings,
    temporal: Client,
    selfies: SelfieBackend,
    evidence: EvidenceSeal,
) -> Starlette:
    """The console app for `settings`, answering through `temporal`; a review's evidence
    comes from `selfies`, opened by `evidence`."""
    settings = settings.checked()
    templates = Jinja2Templates(directory=HERE / "templates")
    audit = EvidenceAudit(settings.audit_log)
    console = Console(
        settings,
        templates,
        temporal,
        load_reasons(),
        settings.signing_key(),
        selfies,
        evidence,
        audit,
    )
    provider = login.identity_provider(settings)

    async def login_page(request: Request) -> Response:
        reviewer, _ = current_reviewer(request.session, settings.session_idle_seconds)
        if reviewer is not None:
            return RedirectResponse("/reviews", status_code=303)
        return console.page(
            request,
            "login.html",
            expired="expired" in request.query_params,
            out="out" in request.query_params,
        )

    async def start_login(request: Request) -> Response:
        return await login.start(provider, settings, request)

    async def callback(request: Request) -> Response:
        after = request.session.get("next")
        done = await login.finish(provider, settings, request)
        if isinstance(done, str):
            return console.page(request, "message.html", 400, title="Login failed", message=done)
        back = after if isinstance(after, str) and after.startswith("/reviews") else "/reviews"
        return RedirectResponse(back, status_code=303)

    async def logout(request: Request) -> Response:
        async with request.form(max_files=0, max_fields=4) as form:
            sent = form.get("csrf_token")
        if not csrf_ok(request.session, sent):
            return RedirectResponse("/reviews", status_code=303)
        request.session.clear()
        return RedirectResponse(await login.logout_url(provider, settings), status_code=303)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def home(request: Request) -> Response:
        return RedirectResponse("/reviews", status_code=303)

    routes = [
        Route("/", home, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/login", login_page, methods=["GET"]),
        Route("/auth/start", start_login, methods=["GET"]),
        Route("/auth/callback", callback, methods=["GET"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/reviews", console.queue, methods=["GET"]),
        Route("/reviews/{request_id}", console.case, methods=["GET"]),
        Route("/reviews/{request_id}/decision", console.decide, methods=["POST"]),
        Route("/reviews/{request_id}/release", console.release, methods=["POST"]),
        Route("/reviews/{request_id}/evidence", console.evidence_image, methods=["GET"]),
        Route("/audit", console.audit_page, methods=["GET"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    assert settings.session_secret is not None  # checked()
    session = Middleware(
        SessionMiddleware,
        secret_key=settings.session_secret.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="lax",
        https_only=settings.secure,
    )
    return Starlette(routes=routes, middleware=[session])


async def serve_console(settings: Settings) -> None:
    console_settings = read_settings(ConsoleSettings, os.environ).checked()
    # Lazy: the console starts while Temporal is down; the pages say so until it is back.
    temporal = await connect(settings, lazy=True)
    keyring = load_keyring(settings)
    evidence = EvidenceSeal(keyring.keys, keyring.current_id)
    app = create_console(console_settings, temporal, selfie_store(), evidence)
    config = uvicorn.Config(
        app, host=console_settings.host, port=console_settings.port, log_config=None
    )
    logger.info("reviewers' console at %s", console_settings.public_url)
    await uvicorn.Server(config).serve()


def main() -> int:
    return run_service("onboarding.console", serve_console)

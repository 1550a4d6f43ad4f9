"""Logging reviewers in with the company's identity provider: OpenID Connect's
authorization code flow with PKCE (S256), through Authlib.

Authlib keeps the request's state, nonce and code verifier in the session, exchanges the
code, and checks the ID token: its signature against the provider's JWKS, the issuer of the
discovery document, the audience (our client id), the expiry and the nonce. The roles come
from the claim CONSOLE_ROLES_CLAIM. A new session starts at each login.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from starlette.requests import Request
from starlette.responses import Response

from contracts.review_proof import VerifiedReviewer
from onboarding.console.sessions import log_in
from onboarding.runtime.console_settings import ConsoleSettings

logger = logging.getLogger("onboarding.console.login")

PROVIDER = "company"


def identity_provider(settings: ConsoleSettings) -> StarletteOAuth2App:
    oauth = OAuth()
    issuer = str(settings.oidc_issuer)
    secret = settings.oidc_client_secret
    oauth.register(
        PROVIDER,
        client_id=settings.oidc_client_id,
        client_secret=secret.get_secret_value() if secret else None,
        server_metadata_url=f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scope, "code_challenge_method": "S256"},
    )
    # Authlib's stubs leave these two calls untyped.
    client: StarletteOAuth2App = oauth.create_client(PROVIDER)  # type: ignore[no-untyped-call]
    return client


async def start(
    provider: StarletteOAuth2App, settings: ConsoleSettings, request: Request
) -> Response:
    """To the provider's login page; it comes back to the callback."""
    answer: Response = await provider.authorize_redirect(request, settings.callback_url)
    return answer


async def finish(
    provider: StarletteOAuth2App, settings: ConsoleSettings, request: Request
) -> VerifiedReviewer | str:
    """The verified reviewer of the callback (now logged in), or why the login failed."""
    try:
        token: dict[str, Any] = await provider.authorize_access_token(request)  # type: ignore[no-untyped-call]
    except OAuthError as exc:
        logger.info("a login failed: %s", exc.error)
        return f"the login did not complete ({exc.error})"
    claims = token.get("userinfo") or {}
    roles = claims.get(settings.roles_claim)
    reviewer = VerifiedReviewer(
        sub=str(claims.get("sub") or ""),
        email=str(claims.get("email") or claims.get("sub") or ""),
        name=str(claims.get("name") or claims.get("email") or ""),
        roles=frozenset(r for r in roles if isinstance(r, str))
        if isinstance(roles, list)
        else frozenset(),
    )
    if not reviewer.sub:
        return "the identity provider named nobody"
    log_in(request.session, reviewer)
    logger.info("a reviewer logged in (roles: %s)", ", ".join(sorted(reviewer.roles)) or "none")
    return reviewer


async def logout_url(provider: StarletteOAuth2App, settings: ConsoleSettings) -> str:
    """Where logging out ends: the provider's end of session, back to our login page."""
    back = f"{settings.public_url.rstrip('/')}/login?out=1"
    try:
        metadata = await provider.load_server_metadata()
    except Exception:  # the provider is down: our session is gone all the same
        return back
    end = metadata.get("end_session_endpoint")
    if not end:
        return back
    query = urlencode({"client_id": settings.oidc_client_id, "post_logout_redirect_uri": back})
    return f"{end}?{query}"

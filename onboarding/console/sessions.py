"""Who is logged in, for how long, and the token every form carries.

The session lives in a cookie signed with CONSOLE_SESSION_SECRET (Starlette's
SessionMiddleware: HttpOnly, SameSite=Lax so that the identity provider's redirect back
carries it, Secure behind TLS). It holds the reviewer the identity provider verified, when
they were last seen (`CONSOLE_SESSION_IDLE_SECONDS` of silence ends it) and the CSRF token
that every form of this session must send back.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import MutableMapping
from typing import Any

from contracts.review_proof import VerifiedReviewer

REVIEWER = "reviewer"
SEEN_AT = "seen_at"
CSRF = "csrf"
CSRF_FIELD = "csrf_token"


def log_in(session: MutableMapping[str, Any], reviewer: VerifiedReviewer) -> None:
    """A new session for `reviewer`: nothing of an earlier one is kept (a fixed session)."""
    session.clear()
    session[REVIEWER] = {
        "sub": reviewer.sub,
        "email": reviewer.email,
        "name": reviewer.name,
        "roles": sorted(reviewer.roles),
    }
    session[SEEN_AT] = time.time()
    session[CSRF] = secrets.token_urlsafe(32)


def current_reviewer(
    session: MutableMapping[str, Any], idle_seconds: float
) -> tuple[VerifiedReviewer | None, bool]:
    """The reviewer of a live session, and whether a session just expired (then cleared)."""
    stored = session.get(REVIEWER)
    if not isinstance(stored, dict):
        return None, False
    seen_at = session.get(SEEN_AT)
    now = time.time()
    if not isinstance(seen_at, int | float) or now - seen_at > idle_seconds:
        session.clear()
        return None, True
    session[SEEN_AT] = now
    roles = stored.get("roles")
    reviewer = VerifiedReviewer(
        sub=str(stored.get("sub", "")),
        email=str(stored.get("email", "")),
        name=str(stored.get("name", "")),
        roles=frozenset(r for r in roles if isinstance(r, str))
        if isinstance(roles, list)
        else frozenset(),
    )
    return reviewer, False


def csrf_token(session: MutableMapping[str, Any]) -> str:
    token = session.get(CSRF)
    if not isinstance(token, str):
        token = session[CSRF] = secrets.token_urlsafe(32)
    return token


def csrf_ok(session: MutableMapping[str, Any], sent: object) -> bool:
    expected = session.get(CSRF)
    return (
        isinstance(expected, str)
        and isinstance(sent, str)
        and hmac.compare_digest(expected.encode(), sent.encode())
    )

"""A reviewer at the reviewers' console, over HTTP as a browser would go: logging in at the
identity provider's page (the sandbox's Auth0 stand-in), opening a case, answering it with
the form's CSRF token. The demo and the benchmarks answer reviews this way, so that their
answers take the console's path, verified reviewer and all."""

from __future__ import annotations

import html
import re
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import httpx

# The three people of the sandbox's identity provider.
REVIEWER = ("ana@reviewers.example", "ana-dev-password")
SENIOR_REVIEWER = ("bruno@reviewers.example", "bruno-dev-password")
NO_ROLE = ("carla@support.example", "carla-dev-password")

_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"')
_FORM = re.compile(r'<form method="post" action="([^"]+)"')


class ConsoleError(Exception):
    """The console or the provider did not answer as a reviewer expects."""


def hidden_fields(page: str) -> dict[str, str]:
    """A page's hidden form fields (our pages' and the provider's)."""
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(page)}


class ConsoleUser:
    """One person's browser: its own cookies, following redirects."""

    def __init__(self, console_url: str) -> None:
        self.console_url = console_url.rstrip("/")
        self.http = httpx.AsyncClient(follow_redirects=True, timeout=30)

    async def __aenter__(self) -> ConsoleUser:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.http.aclose()

    async def log_in(self, username: str, password: str) -> httpx.Response:
        """Through the provider's login page; answers the page it lands on."""
        page = await self.http.get(f"{self.console_url}/auth/start")
        action = _FORM.search(page.text)
        if page.status_code != 200 or action is None:
            raise ConsoleError(f"no login form at {page.url} ({page.status_code})")
        form = {**hidden_fields(page.text), "username": username, "password": password}
        return await self.http.post(urljoin(str(page.url), action.group(1)), data=form)

    async def get(self, path: str) -> httpx.Response:
        return await self.send("GET", f"{self.console_url}{path}")

    async def post(self, url: str, data: dict[str, str]) -> httpx.Response:
        return await self.send("POST", url, data=data)

    async def send(self, method: str, url: str, **options: Any) -> httpx.Response:
        """The request, sent again once when a kept-alive connection was closed under it,
        as a browser does: the console closes connections idle for 5 s, and a request can
        leave on one in the instant it closes (no byte of it was read)."""
        try:
            return await self.http.request(method, url, **options)
        except (httpx.RemoteProtocolError, httpx.ReadError):
            return await self.http.request(method, url, **options)

    async def answer(
        self, request_id: str, decision: str, reason: str, note: str | None = None
    ) -> httpx.Response:
        """Open the case and answer it with its form, as the reviewer would."""
        case = await self.get(f"/reviews/{request_id}")
        if case.status_code != 200:
            raise ConsoleError(f"the case {request_id} did not open ({case.status_code})")
        form = {**hidden_fields(case.text), "decision": decision, "reason": reason}
        if note is not None:
            form["note"] = note
        return await self.post(f"{self.console_url}/reviews/{request_id}/decision", form)

    async def log_out(self) -> httpx.Response:
        page = await self.get("/reviews")
        return await self.post(f"{self.console_url}/logout", hidden_fields(page.text))

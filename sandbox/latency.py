"""A slow Unico on demand: every process-API answer is held back `seconds` after the work.

The request is handled at once (a process is created, counted) and only the answer is late,
as with a slow network or a loaded Unico. Tests use it to hold a call in flight, for
example while a worker is told to shut down.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.ratelimit import PROCESS_API_PREFIX


class AnswerDelayMiddleware:
    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.seconds or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not scope["path"].startswith(PROCESS_API_PREFIX):
            await self.app(scope, receive, send)
            return

        async def late_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                await asyncio.sleep(self.seconds)
            await send(message)

        await self.app(scope, receive, late_send)

"""Serve an ASGI app over real HTTP on a free loopback port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from starlette.types import ASGIApp

from tests.support import LOOPBACK


@asynccontextmanager
async def serving(app: ASGIApp, port: int = 0, start_timeout: float = 10.0) -> AsyncIterator[str]:
    """Yield the base URL while uvicorn serves `app`; runs its lifespan, stops on exit.

    `port` 0 picks a free one; a given port suits a peer that must know it in advance.
    """
    # IPPROTO_TCP said outright: with proto 0 asyncio never sets TCP_NODELAY, and Nagle plus
    # delayed ACKs add about 40 ms to every loopback request.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, port))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(start_timeout):
            while not server.started:
                if task.done():
                    task.result()  # a failed start-up raises here
                await asyncio.sleep(0.01)
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()

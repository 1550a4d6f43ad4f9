"""The worker's probes: `GET /livez` (liveness) and `GET /readyz` (readiness).

Ready means connected and polling: every worker is running, the last check of the Temporal
connection passed, and no shutdown has begun (a draining worker must not be sent traffic,
but must not be killed either: it stays live). Live means the event loop still turns: a
loop blocked for LIVENESS_STALL_SECONDS, which no activity of ours should ever cause, is
what a restart cures.

The HTTP server runs in a thread of its own, so that it answers while the loop is blocked:
that is exactly when liveness must say no.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from temporalio.client import Client
from temporalio.worker import Worker

from onboarding.runtime.errors import SettingsError

LIVENESS_STALL_SECONDS = 30.0
CHECK_INTERVAL_SECONDS = 5.0
CHECK_TIMEOUT = timedelta(seconds=5)


@dataclass
class WorkerHealth:
    """What the probes answer; the asyncio side writes it, the HTTP thread reads it."""

    workers: Sequence[Worker] = ()
    clock: Callable[[], float] = time.monotonic
    connected: bool = False
    stopping: bool = False
    last_beat: float = field(default_factory=time.monotonic)

    def ready(self) -> tuple[bool, str]:
        if self.stopping:
            return False, "shutting down"
        if not self.connected:
            return False, "Temporal is not reachable"
        if not self.workers or not all(worker.is_running for worker in self.workers):
            return False, "not polling"
        return True, "polling"

    def live(self) -> tuple[bool, str]:
        stalled = self.clock() - self.last_beat
        if stalled > LIVENESS_STALL_SECONDS:
            return False, f"event loop stalled for {stalled:.0f}s"
        return True, "running"

    async def watch(self, client: Client) -> None:
        """Beat for liveness and check the connection for readiness, until cancelled."""
        while True:
            self.last_beat = self.clock()
            try:
                self.connected = await client.service_client.check_health(timeout=CHECK_TIMEOUT)
            except Exception:  # any failure to answer is "not connected"
                self.connected = False
            await asyncio.sleep(CHECK_INTERVAL_SECONDS)


class _ProbeHandler(BaseHTTPRequestHandler):
    health: WorkerHealth

    def do_GET(self) -> None:
        probe = {"/livez": self.health.live, "/readyz": self.health.ready}.get(self.path)
        if probe is None:
            self._answer(404, {"error": "try /livez or /readyz"})
            return
        ok, detail = probe()
        self._answer(200 if ok else 503, {"status": "ok" if ok else "fail", "detail": detail})

    def _answer(self, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Probes come every few seconds: no access log."""


@asynccontextmanager
async def probe_server(
    health: WorkerHealth, client: Client, bind_address: str | None
) -> AsyncIterator[None]:
    """Serve the probes on `host:port` and keep `health` current; nothing when unset."""
    server = None
    if bind_address:
        host, port = bind_address.rsplit(":", 1)
        handler = type("ProbeHandler", (_ProbeHandler,), {"health": health})
        try:
            server = ThreadingHTTPServer((host, int(port)), handler)
        except OSError as exc:
            raise SettingsError(f"HEALTH_BIND_ADDRESS: cannot bind {bind_address}: {exc}") from None
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, name="probes", daemon=True).start()
    watcher = asyncio.create_task(health.watch(client))
    try:
        yield
    finally:
        watcher.cancel()
        with suppress(asyncio.CancelledError):
            await watcher
        if server is not None:
            server.shutdown()
            server.server_close()

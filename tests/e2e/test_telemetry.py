"""Telemetry set-up: spans leave over OTLP/HTTP at the flush; a bad metrics address stops.

A child process does the set-up, as a worker does at start (a tracer provider is installed
once per process), and sends to a real HTTP receiver on loopback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support import API_KEY, LOOPBACK, SERVICE_ACCOUNT, make_key_pair

EMIT_ONE_SPAN = """
from opentelemetry import trace
from onboarding.runtime.settings import Settings
from onboarding.runtime.telemetry import flush_traces, tracing_plugins

assert tracing_plugins(Settings()), "the plugin is on, exporter or not"
with trace.get_tracer("probe").start_as_current_span("probe-span"):
    pass
flush_traces()
"""


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    received: list[tuple[str, str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://{LOOPBACK}:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def emit(env: dict[str, str]) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    run = subprocess.run(
        [sys.executable, "-c", EMIT_ONE_SPAN],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr


def test_spans_go_to_the_otlp_endpoint_when_set(receiver) -> None:
    url, received = receiver
    emit({"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_SERVICE_NAME": "onboarding-worker"})
    assert [(path, kind) for path, kind, _ in received] == [
        ("/v1/traces", "application/x-protobuf")
    ]
    body = received[0][2]
    assert b"probe-span" in body and b"onboarding-worker" in body


def test_a_taken_metrics_port_stops_the_worker_with_one_line(tmp_path) -> None:
    keys = make_key_pair(tmp_path)
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        env = {
            **os.environ,
            "UNICO_SERVICE_ACCOUNT": SERVICE_ACCOUNT,
            "UNICO_PRIVATE_KEY_FILE": str(keys.private),
            "UNICO_API_KEY": API_KEY,
            "TEMPORAL_WORKER_BUILD_ID": "test",
            "METRICS_BIND_ADDRESS": f"{LOOPBACK}:{taken.getsockname()[1]}",
        }
        run = subprocess.run(
            [sys.executable, "-m", "worker"], env=env, capture_output=True, text=True, timeout=60
        )
    assert run.returncode == 2
    assert run.stderr.startswith("worker: METRICS_BIND_ADDRESS: ")
    assert run.stderr.count("\n") == 1

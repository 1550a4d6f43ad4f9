"""TLS in front of a plaintext dev server, for the connection tests: certificates made at
test time, a TLS-terminating TCP proxy (mTLS), and a gRPC proxy that checks an API key.

`temporal server start-dev` serves no TLS, so these stand where Temporal Cloud or a cluster's
TLS frontend would: the client side (ours) meets a real handshake, a real certificate check
and a real refusal; the dev server behind them never sees a certificate or a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support import LOOPBACK

SERVER_NAME = "temporal.test"  # the name in the proxy's certificate


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    key: ec.EllipticCurvePrivateKey,
    subject: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    issuer: str,
    *,
    ca: bool = False,
    dns_name: str | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        usage = x509.KeyUsage(True, False, False, False, False, True, True, False, False)
        builder = builder.add_extension(usage, critical=True)
    if dns_name:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, item: Any) -> Path:
    if isinstance(item, x509.Certificate):
        path.write_bytes(item.public_bytes(serialization.Encoding.PEM))
    else:
        pem = item.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path.write_bytes(pem)
        path.chmod(0o600)
    return path


@dataclass(frozen=True)
class Pki:
    """A CA, the proxy's server certificate, a client certificate it signed, and strangers."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # signed neither certificate
    other_client_cert: Path  # signed by other_ca: the proxy refuses it
    other_client_key: Path

    @classmethod
    def make(cls, directory: Path) -> Pki:
        directory.mkdir(parents=True, exist_ok=True)
        ca_key, other_key = _key(), _key()
        ca = _certificate(ca_key, "test CA", ca_key, "test CA", ca=True)
        other = _certificate(other_key, "other CA", other_key, "other CA", ca=True)
        server_key, client_key, stranger_key = _key(), _key(), _key()
        server = _certificate(server_key, SERVER_NAME, ca_key, "test CA", dns_name=SERVER_NAME)
        client = _certificate(client_key, "onboarding worker", ca_key, "test CA")
        stranger = _certificate(stranger_key, "stranger", other_key, "other CA")
        return cls(
            ca=_write(directory / "ca.pem", ca),
            server_cert=_write(directory / "server.pem", server),
            server_key=_write(directory / "server.key", server_key),
            client_cert=_write(directory / "client.pem", client),
            client_key=_write(directory / "client.key", client_key),
            other_ca=_write(directory / "other-ca.pem", other),
            other_client_cert=_write(directory / "stranger.pem", stranger),
            other_client_key=_write(directory / "stranger.key", stranger_key),
        )

    def mtls_environment(self, address: str) -> dict[str, str]:
        """The variables a worker needs to reach the mTLS proxy."""
        return {
            "TEMPORAL_ADDRESS": address,
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(self.ca),
            "TEMPORAL_TLS_CLIENT_CERT_PATH": str(self.client_cert),
            "TEMPORAL_TLS_CLIENT_KEY_PATH": str(self.client_key),
            "TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
        }


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def mtls_proxy(pki: Pki, upstream: str) -> AsyncIterator[str]:
    """A TLS-terminating TCP proxy on loopback that requires a client certificate signed by
    the test CA and pipes the bytes to `upstream` (the dev server's plaintext port)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.load_verify_locations(pki.ca)
    context.verify_mode = ssl.CERT_REQUIRED
    context.set_alpn_protocols(["h2"])  # gRPC speaks HTTP/2; without it the client gives up
    host, _, port = upstream.rpartition(":")
    pipes: set[asyncio.Future[Any]] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(host, int(port))
        except OSError:
            writer.close()
            return
        both = asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        task = asyncio.ensure_future(both)
        pipes.add(task)
        task.add_done_callback(pipes.discard)

    server = await asyncio.start_server(handle, LOOPBACK, 0, ssl=context)
    try:
        yield f"{LOOPBACK}:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        for task in list(pipes):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 5)


class _ForwardWithKey(grpc.GenericRpcHandler):
    """Every call of Temporal's API (all unary), forwarded as bytes if it carries the key;
    refused with UNAUTHENTICATED otherwise, as Temporal Cloud refuses a wrong API key."""

    def __init__(self, channel: grpc.aio.Channel, api_key: str, seen: list[str]) -> None:
        self._channel, self._expected, self._seen = channel, f"Bearer {api_key}", seen

    def service(
        self, details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[bytes, bytes] | None:
        upstream: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = self._channel.unary_unary(
            details.method
        )

        async def forward(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
            metadata = dict(context.invocation_metadata() or ())
            given = str(metadata.get("authorization", ""))
            self._seen.append(given)
            if given != self._expected:
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, "Request unauthorized.")
            remaining = context.time_remaining()
            try:
                answer: bytes = await upstream(
                    request,
                    metadata=[(k, v) for k, v in metadata.items() if k != "authorization"],
                    timeout=remaining,
                )
            except grpc.aio.AioRpcError as exc:
                await context.abort(exc.code(), exc.details() or "")
            return answer

        return grpc.unary_unary_rpc_method_handler(forward)


@dataclass
class ApiKeyProxy:
    address: str
    seen: list[str]  # the `authorization` header of every call, as it arrived


@contextlib.asynccontextmanager
async def api_key_proxy(pki: Pki, upstream: str, api_key: str) -> AsyncIterator[ApiKeyProxy]:
    """A TLS gRPC frontend (server certificate only) that lets in calls with the key."""
    seen: list[str] = []
    async with grpc.aio.insecure_channel(upstream) as channel:
        server = grpc.aio.server()
        server.add_generic_rpc_handlers([_ForwardWithKey(channel, api_key, seen)])
        credentials = grpc.ssl_server_credentials(
            [(pki.server_key.read_bytes(), pki.server_cert.read_bytes())]
        )
        port = server.add_secure_port(f"{LOOPBACK}:0", credentials)
        await server.start()
        try:
            yield ApiKeyProxy(f"{LOOPBACK}:{port}", seen)
        finally:
            await server.stop(grace=1)


async def _serve(upstream: str, directory: Path) -> None:
    pki = Pki.make(directory)
    async with mtls_proxy(pki, upstream) as address:
        print(f"mTLS proxy on {address} -> {upstream}; certificates in {directory}", flush=True)
        for name, value in pki.mtls_environment(address).items():
            print(f"export {name}={value}", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    # Try mTLS by hand: `python -m tests.tls 127.0.0.1:7233 .state/tls` in front of `make run`.
    import sys

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(sys.argv[1], Path(sys.argv[2])))

"""Where Temporal is and how we prove who we are, read as every Temporal tool reads it.

A profile of the TOML file that the `temporal` CLI reads (`TEMPORAL_CONFIG_FILE`, else its
default location; `TEMPORAL_PROFILE`, else `default`), with the variables laid over it:
`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS`,
`TEMPORAL_TLS_CLIENT_CERT_PATH|_DATA`, `TEMPORAL_TLS_CLIENT_KEY_PATH|_DATA`,
`TEMPORAL_TLS_SERVER_CA_CERT_PATH|_DATA`, `TEMPORAL_TLS_SERVER_NAME` and
`TEMPORAL_GRPC_META_<NAME>`. `temporalio.envconfig` does the reading; this module adds what
it leaves out: the local stack's address and namespace when nothing is set, a variable set
to an empty string counted as unset (Compose passes unset ones through as empty), a
`TEMPORAL_TLS` value it would silently read as "on" refused, certificate files read and
checked at start-up, and a failed connection told in one line that names the setting to fix.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
)
from temporalio.envconfig import ClientConfigProfile, DataSource
from temporalio.service import TLSConfig

from onboarding.runtime.errors import SettingsError, StackUnavailable

T = TypeVar("T")

DEFAULT_ADDRESS = "127.0.0.1:7233"
DEFAULT_NAMESPACE = "default"
CONNECT_TIMEOUT_SECONDS = 10.0
TLS_PROBE_SECONDS = 3.0

CONFIG_FILE = "TEMPORAL_CONFIG_FILE"
PROFILE = "TEMPORAL_PROFILE"
ADDRESS = "TEMPORAL_ADDRESS"
TLS = "TEMPORAL_TLS"
API_KEY = "TEMPORAL_API_KEY"
SERVER_NAME = "TEMPORAL_TLS_SERVER_NAME"
# The TLS sources: each variable is written with `_PATH` or `_DATA` after it.
CLIENT_CERT = "TEMPORAL_TLS_CLIENT_CERT"
CLIENT_KEY = "TEMPORAL_TLS_CLIENT_KEY"
SERVER_CA = "TEMPORAL_TLS_SERVER_CA_CERT"
# Every variable this module reads, as Temporal's tools name them (Compose passes them on).
VARIABLES = (
    CONFIG_FILE,
    PROFILE,
    ADDRESS,
    "TEMPORAL_NAMESPACE",
    API_KEY,
    TLS,
    *(
        f"{name}{form}"
        for name in (CLIENT_CERT, CLIENT_KEY, SERVER_CA)
        for form in ("_PATH", "_DATA")
    ),
    SERVER_NAME,
)
METADATA_PREFIX = "TEMPORAL_GRPC_META_"
_PROFILE_KEYS = {
    ADDRESS: "address",
    CLIENT_CERT: "tls.client_cert",
    CLIENT_KEY: "tls.client_key",
    SERVER_CA: "tls.server_ca_cert",
    SERVER_NAME: "tls.server_name",
    TLS: "tls",
    API_KEY: "api_key",
}
_TLS_WORDS = frozenset({"true", "1", "false", "0"})
_HOST_PORT = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}")


class TemporalSettingError(SettingsError):
    """A connection setting is wrong; the message names it and the cause, in one line."""


@dataclass(frozen=True)
class TemporalTarget:
    """Everything `Client.connect` needs to reach one namespace, read and checked."""

    address: str = DEFAULT_ADDRESS
    namespace: str = DEFAULT_NAMESPACE
    api_key: str | None = field(default=None, repr=False)
    tls: TLSConfig | None = field(default=None, repr=False)
    rpc_metadata: Mapping[str, str] = field(default_factory=dict, repr=False)
    # The setting each value came from, for messages: a variable, or a key of a profile.
    origins: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> TemporalTarget:
        """The target that the profile and the variables describe.

        `TemporalSettingError` when a setting is wrong: an unknown profile, a TLS file that
        is missing or unreadable, a key that is not its certificate's.
        """
        source = os.environ if env is None else env
        variables = {name: value for name, value in source.items() if value.strip()}
        profile = _load_profile(variables)
        origins = _Origins(variables)
        address = profile.address or DEFAULT_ADDRESS
        if not _HOST_PORT.fullmatch(address):
            where = origins.note(ADDRESS)
            raise TemporalSettingError(f"{where}: {address!r} is not host:port (no scheme)")
        return cls(
            address=address,
            namespace=profile.namespace or DEFAULT_NAMESPACE,
            api_key=profile.api_key,
            tls=_tls_config(profile, origins),
            rpc_metadata=dict(profile.grpc_meta),
            origins=origins.named,
        )

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for `Client.connect`."""
        return {
            "target_host": self.address,
            "namespace": self.namespace,
            "api_key": self.api_key,
            "tls": self.tls or False,
            "rpc_metadata": dict(self.rpc_metadata),
        }

    def describe(self) -> str:
        """For a log line: where, and how we prove who we are; never a secret."""
        proofs = []
        if self.tls is not None:
            proofs.append("mTLS" if self.tls.client_cert else "TLS")
        if self.api_key:
            proofs.append("API key")
        return f"{self.address}, namespace {self.namespace}, {' + '.join(proofs) or 'plaintext'}"

    def setting(self, name: str) -> str:
        """The setting that gave `name`'s value: the variable, or the profile key."""
        return self.origins.get(name, name)


class _Origins:
    """Notes where each value came from: the variable when set, else the profile's key."""

    def __init__(self, variables: Mapping[str, str]) -> None:
        self._variables = variables
        profile = variables.get(PROFILE, "default")
        self._where = f'of profile "{profile}" in {variables.get(CONFIG_FILE, "the profile file")}'
        self.named: dict[str, str] = {}

    def note(self, name: str, from_file_as: str | None = None) -> str:
        for variable in (name, f"{name}_PATH", f"{name}_DATA"):
            if variable in self._variables:
                self.named[name] = variable
                return variable
        if name == TLS and any(v.startswith(TLS) for v in self._variables):
            self.named[name] = TLS  # TLS came on by a TEMPORAL_TLS_* variable: this turns it off
            return TLS
        self.named[name] = f"{from_file_as or _PROFILE_KEYS[name]} {self._where}"
        return self.named[name]


def _load_profile(variables: Mapping[str, str]) -> ClientConfigProfile:
    tls = variables.get(TLS)
    if tls is not None and tls.strip().lower() not in _TLS_WORDS:
        # envconfig would read "yes", "no" or "off" as TLS on.
        raise TemporalSettingError(f"{TLS}: {tls!r} is not one of true, false, 1, 0")
    config_file = variables.get(CONFIG_FILE)
    if config_file is not None and not Path(config_file).is_file():
        raise TemporalSettingError(f"{CONFIG_FILE}: no such file: {config_file}")
    try:
        return ClientConfigProfile.load(override_env_vars=variables)
    except Exception as exc:  # the bridge's ConfigError: a bad file, an unknown profile
        first = _first_line(exc)
        setting = PROFILE if "not found" in first else CONFIG_FILE
        raise TemporalSettingError(f"{setting}: {first}") from None


def _tls_config(profile: ClientConfigProfile, origins: _Origins) -> TLSConfig | None:
    """The TLS settings with their files read and checked; None for plaintext."""
    spec = profile.tls
    if profile.api_key:
        origins.note(API_KEY)
    if spec is None or spec.disabled is True:
        if spec is not None:
            origins.note(TLS)
        # An API key alone turns TLS on, with the system's roots (Temporal Cloud's case).
        return TLSConfig() if spec is None and profile.api_key else None
    origins.note(TLS)
    ca = _read(spec.server_root_ca_cert, SERVER_CA, origins)
    cert = _read(spec.client_cert, CLIENT_CERT, origins)
    key = _read(spec.client_private_key, CLIENT_KEY, origins)
    if spec.server_name:
        origins.note(SERVER_NAME)
    if ca is not None:
        _certificates(ca, origins.named[SERVER_CA])
    _check_pair(cert, key, origins)
    return TLSConfig(
        server_root_ca_cert=ca, domain=spec.server_name, client_cert=cert, client_private_key=key
    )


def _read(source: DataSource | None, name: str, origins: _Origins) -> bytes | None:
    if source is None:
        return None
    suffix = "_path" if isinstance(source, Path) else "_data"
    setting = origins.note(name, _PROFILE_KEYS[name] + suffix)
    if isinstance(source, Path):
        try:
            return source.read_bytes()
        except OSError as exc:
            raise TemporalSettingError(f"{setting}: cannot read {source}: {exc.strerror}") from None
    return source.encode() if isinstance(source, str) else source


def _certificates(pem: bytes, setting: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise TemporalSettingError(f"{setting}: not a PEM certificate") from None


def _check_pair(cert: bytes | None, key: bytes | None, origins: _Origins) -> None:
    """A client certificate needs its key, and the key must be the certificate's."""
    if cert is None and key is None:
        return
    if cert is None or key is None:
        missing, given = (CLIENT_CERT, CLIENT_KEY) if cert is None else (CLIENT_KEY, CLIENT_CERT)
        raise TemporalSettingError(f"{missing}_PATH: not set; {origins.named[given]} needs it")
    cert_setting, key_setting = origins.named[CLIENT_CERT], origins.named[CLIENT_KEY]
    leaf = _certificates(cert, cert_setting)[0]
    try:
        private = load_pem_private_key(key, password=None)
    except (ValueError, TypeError):
        raise TemporalSettingError(f"{key_setting}: not an unencrypted PEM private key") from None
    if _spki(private.public_key()) != _spki(leaf.public_key()):
        raise TemporalSettingError(
            f"{key_setting}: the key does not match the certificate of {cert_setting}"
        )


def _spki(public_key: Any) -> bytes:
    return bytes(public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))


# --- what a failed connection means -------------------------------------------------------

_PRESENTED = re.compile(r'(?:DnsName|IpAddress)\(\\*"?([^"\\)]+)')
_UNREACHABLE = (
    "ConnectionRefused",
    "Connection refused",
    "tcp connect error",
    "dns error",
    "failed to lookup",
    "HostUnreachable",
    "NetworkUnreachable",
    "TimedOut",
    "timed out",
)

# The server closed the connection: before the handshake ends, or (TLS 1.3, which settles the
# client certificate after the client thinks it is connected) under the first call.
_HUNG_UP = (
    "transport error",
    "BrokenPipe",
    "ConnectionReset",
    "hyper::Error(Canceled",
)


def explain_failure(target: TemporalTarget, error: BaseException) -> Exception:
    """A failed connect: `TemporalSettingError` (a setting to fix) or `StackUnavailable`."""
    text = str(error)
    at = f"the server at {target.address}"
    if "UnknownIssuer" in text or "BadSignature" in text:
        if target.tls is not None and target.tls.server_root_ca_cert is not None:
            return TemporalSettingError(
                f"{target.setting(SERVER_CA)}: {at} presents a certificate this CA did not sign"
            )
        return TemporalSettingError(
            f"{SERVER_CA}_PATH: {at} presents a certificate that no CA of this system signed; "
            "give the CA that did"
        )
    if "NotValidForName" in text:
        presented = ", ".join(_PRESENTED.findall(text.split("presented", 1)[-1]))
        domain = target.tls.domain if target.tls is not None else None
        expected = domain or target.address.rsplit(":", 1)[0]
        setting = target.setting(SERVER_NAME) if domain else SERVER_NAME
        return TemporalSettingError(
            f"{setting}: {at} presents a certificate for {presented or 'another name'}, "
            f"not {expected}"
        )
    if any(word in text for word in ("InvalidContentType", "InvalidMessage", "CorruptMessage")):
        return TemporalSettingError(
            f"{target.setting(TLS)}: {at} does not speak TLS; turn TLS off ({TLS}=false), "
            f"or fix {ADDRESS}"
        )
    if "KeyMismatch" in text or "InconsistentKeys" in text:
        return TemporalSettingError(
            f"{target.setting(CLIENT_KEY)}: the key does not match the client certificate"
        )
    if "Unauthenticated" in text or "PermissionDenied" in text:
        why = _status_message(text)
        if target.api_key:
            return TemporalSettingError(f"{target.setting(API_KEY)}: {at} refused the API key{why}")
        return TemporalSettingError(
            f"{API_KEY}: {at} asks for credentials{why}; set {API_KEY} or a client certificate"
        )
    if "Unimplemented" in text:
        return StackUnavailable(f"{at} is not a Temporal frontend ({_status_message(text)[2:-1]})")
    if any(marker in text for marker in _UNREACHABLE):
        return StackUnavailable(f"cannot reach Temporal at {target.address} ({_cause(text)})")
    if any(marker in text for marker in _HUNG_UP):
        return _hung_up(target)
    return StackUnavailable(f"cannot reach Temporal at {target.address} ({_cause(text)})")


def _hung_up(target: TemporalTarget) -> Exception:
    """The server closed the connection at once: a TLS mismatch, which a probe tells."""
    at = f"the server at {target.address}"
    if target.tls is None:
        if speaks_tls(target.address):
            return TemporalSettingError(
                f"{TLS}: {at} speaks TLS, and TLS is off; set {TLS}=true and the TLS "
                "settings it needs"
            )
        return StackUnavailable(f"cannot reach Temporal at {target.address} (connection closed)")
    if not target.tls.client_cert:
        return TemporalSettingError(
            f"{CLIENT_CERT}_PATH: {at} closed the connection during TLS: it wants a client "
            f"certificate (and {CLIENT_KEY}_PATH)"
        )
    return TemporalSettingError(
        f"{target.setting(CLIENT_CERT)}: {at} refused the client certificate (not signed by "
        "a CA the server trusts?)"
    )


def speaks_tls(address: str, timeout: float = TLS_PROBE_SECONDS) -> bool:
    """Whether a TLS handshake gets a TLS answer at `address`; nothing is verified."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    try:
        with (
            socket.create_connection((host, int(port)), timeout=timeout) as raw,
            context.wrap_socket(raw, server_hostname=host),
        ):
            return True
    except ssl.SSLError as exc:
        # An alert (say, "certificate required") still comes from a TLS server.
        return "ALERT" in str(exc).upper()
    except (OSError, ValueError):
        return False


async def within_connect_timeout(target: TemporalTarget, connecting: Awaitable[T]) -> T:
    """A silent network means an unreachable server, not a hang."""
    try:
        return await asyncio.wait_for(connecting, CONNECT_TIMEOUT_SECONDS)
    except TimeoutError:
        raise StackUnavailable(
            f"cannot reach Temporal at {target.address} "
            f"(no answer in {CONNECT_TIMEOUT_SECONDS:g} s)"
        ) from None


def _status_message(text: str) -> str:
    found = re.search(r'message: "([^"]*)"', text)
    return f" ({found.group(1)})" if found and found.group(1) else ""


def _cause(text: str) -> str:
    if "ConnectionRefused" in text or "Connection refused" in text:
        return "connection refused"
    if "dns error" in text or "failed to lookup" in text:
        return "the name does not resolve"
    return _first_line(text)[:200]


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else type(value).__name__

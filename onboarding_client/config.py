"""What a calling service is given, read from its environment.

    ONBOARDING_CODEC_URL, ONBOARDING_CODEC_TOKEN (or _FILE)
                                the codec server and a caller's token (CODEC_CALLER_TOKENS):
                                seals inputs, opens only the answers meant for callers
    ONBOARDING_ENCRYPTION_KEYS (or _FILE)
                                instead, the payload keyring itself: opens everything
    GATEWAY_URL, GATEWAY_API_TOKEN (or _FILE)
                                where selfies are uploaded, and its bearer token
    ONBOARDING_TASK_QUEUE       the workers' task queue (default `onboarding`)

Temporal itself is found as every Temporal SDK finds it (`TEMPORAL_ADDRESS`,
`TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`, `TEMPORAL_PROFILE` and the
configuration file): see `onboarding_client.connection`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.converter import PayloadCodec

from onboarding_client.codec import EncryptionCodec
from onboarding_client.contract.names import TASK_QUEUE
from onboarding_client.keyring import Keyring, KeyringError
from onboarding_client.remote_codec import RemoteCodec

DEFAULT_GATEWAY_URL = "http://127.0.0.1:8088"


class CallerConfigError(ValueError):
    """A setting is missing or malformed: the message names it (never a secret's value)."""


@dataclass(frozen=True)
class CallerConfig:
    """Either `codec_url` and `codec_token` (scoped) or `keyring` (everything)."""

    keyring: Keyring | None = field(default=None, repr=False)
    codec_url: str | None = None
    codec_token: str | None = field(default=None, repr=False)
    gateway_url: str = DEFAULT_GATEWAY_URL
    gateway_token: str | None = field(default=None, repr=False)
    task_queue: str = TASK_QUEUE
    # The Temporal settings, when not the process's own environment (None: os.environ).
    temporal_environment: Mapping[str, str] | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> CallerConfig:
        """Read the settings above from `env` (default: this process's environment)."""
        source = os.environ if env is None else env
        codec_url = source.get("ONBOARDING_CODEC_URL", "").strip() or None
        codec_token = _secret(source, "ONBOARDING_CODEC_TOKEN")
        keys = None if codec_url else _secret(source, "ONBOARDING_ENCRYPTION_KEYS")
        if codec_url and codec_token is None:
            raise CallerConfigError("ONBOARDING_CODEC_URL is set without ONBOARDING_CODEC_TOKEN")
        if codec_url is None and keys is None:
            raise CallerConfigError(
                "set ONBOARDING_CODEC_URL and ONBOARDING_CODEC_TOKEN (or the keyring, "
                "ONBOARDING_ENCRYPTION_KEYS): without a codec an input would reach Temporal "
                "in clear (and be refused)"
            )
        keyring = None
        if keys is not None:
            try:
                keyring = Keyring.parse(keys, source.get("ONBOARDING_ENCRYPTION_KEY_ID") or None)
            except KeyringError as exc:
                raise CallerConfigError(f"ONBOARDING_ENCRYPTION_KEYS: {exc}") from None
        return cls(
            keyring=keyring,
            codec_url=codec_url,
            codec_token=codec_token,
            gateway_url=source.get("GATEWAY_URL") or DEFAULT_GATEWAY_URL,
            gateway_token=_secret(source, "GATEWAY_API_TOKEN"),
            task_queue=source.get("ONBOARDING_TASK_QUEUE") or TASK_QUEUE,
            temporal_environment=dict(source) if env is not None else None,
        )

    def codec(self) -> PayloadCodec:
        """The codec server with the caller's token, or else the keyring's codec."""
        if self.codec_url is not None and self.codec_token is not None:
            return RemoteCodec(self.codec_url, self.codec_token)
        if self.keyring is None:
            raise CallerConfigError("neither a codec server nor a keyring is configured")
        return EncryptionCodec(self.keyring)


def _secret(source: Mapping[str, str], name: str) -> str | None:
    """A secret from `NAME`, or from the file `NAME_FILE` names; None when neither is set."""
    if value := source.get(name, "").strip():
        return value
    path = source.get(f"{name}_FILE", "").strip()
    if not path:
        return None
    return read_secret_file(Path(path), f"{name}_FILE").decode("utf-8").strip() or None


def read_secret_file(path: Path, setting: str) -> bytes:
    """The file a `*_FILE` setting names; refused in one line naming the setting and the
    path, never a byte of the secret (the product reads its own secret files so too)."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CallerConfigError(f"{setting}: cannot read {path}: {exc.strerror}") from None

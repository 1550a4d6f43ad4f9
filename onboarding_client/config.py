"""What a calling service is given, read from its environment.

    ONBOARDING_ENCRYPTION_KEYS (or _FILE)  the payload keyring, to seal inputs and open results
    GATEWAY_URL, GATEWAY_API_TOKEN (or _FILE)  where selfies are uploaded, and its bearer token
    ONBOARDING_TASK_QUEUE                  the workers' task queue (default `onboarding`)

Temporal itself is found as every Temporal SDK finds it (`TEMPORAL_ADDRESS`,
`TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`, `TEMPORAL_PROFILE` and the
configuration file): see `onboarding_client.connection`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from onboarding_client.contract.names import TASK_QUEUE
from onboarding_client.keyring import Keyring, KeyringError

DEFAULT_GATEWAY_URL = "http://127.0.0.1:8088"


class CallerConfigError(ValueError):
    """A setting is missing or malformed: the message names it (never a secret's value)."""


@dataclass(frozen=True)
class CallerConfig:
    keyring: Keyring
    gateway_url: str = DEFAULT_GATEWAY_URL
    gateway_token: str | None = field(default=None, repr=False)
    task_queue: str = TASK_QUEUE
    # The Temporal settings, when not the process's own environment (None: os.environ).
    temporal_environment: Mapping[str, str] | None = field(default=None, repr=False)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> CallerConfig:
        """Read the settings above from `env` (default: this process's environment)."""
        source = os.environ if env is None else env
        keys = _secret(source, "ONBOARDING_ENCRYPTION_KEYS")
        if keys is None:
            raise CallerConfigError(
                "ONBOARDING_ENCRYPTION_KEYS (or ONBOARDING_ENCRYPTION_KEYS_FILE) is not set: "
                "without the keyring an input would reach Temporal in clear (and be refused)"
            )
        try:
            keyring = Keyring.parse(keys, source.get("ONBOARDING_ENCRYPTION_KEY_ID") or None)
        except KeyringError as exc:
            raise CallerConfigError(f"ONBOARDING_ENCRYPTION_KEYS: {exc}") from None
        return cls(
            keyring=keyring,
            gateway_url=source.get("GATEWAY_URL") or DEFAULT_GATEWAY_URL,
            gateway_token=_secret(source, "GATEWAY_API_TOKEN"),
            task_queue=source.get("ONBOARDING_TASK_QUEUE") or TASK_QUEUE,
            temporal_environment=dict(source) if env is not None else None,
        )


def _secret(source: Mapping[str, str], name: str) -> str | None:
    """A secret from `NAME`, or from the file `NAME_FILE` names; None when neither is set."""
    if value := source.get(name, "").strip():
        return value
    path = source.get(f"{name}_FILE", "").strip()
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8").strip() or None
    except OSError as exc:
        raise CallerConfigError(f"{name}_FILE: cannot read {path} ({exc.strerror})") from None

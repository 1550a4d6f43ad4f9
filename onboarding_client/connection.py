"""A Temporal client whose payloads are sealed with the onboarding keyring.

Temporal is found as the SDK's environment configuration finds it (`temporalio.envconfig`:
`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*`,
`TEMPORAL_PROFILE`, `TEMPORAL_CONFIG_FILE`). Values become JSON through the pydantic
converter, every payload is then sealed by `EncryptionCodec`, and failures are encoded too
(their messages would otherwise be stored in clear).
"""

from __future__ import annotations

import dataclasses

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)
from temporalio.envconfig import ClientConfigProfile

from onboarding_client.codec import EncryptionCodec
from onboarding_client.config import CallerConfig
from onboarding_client.keyring import Keyring


def data_converter(keyring: Keyring) -> DataConverter:
    """The converter every party of an onboarding uses: pydantic JSON, then sealed."""
    return sealed_converter(EncryptionCodec(keyring))


def sealed_converter(codec: PayloadCodec) -> DataConverter:
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(config: CallerConfig | None = None) -> Client:
    """Connect as `config` says (default: `CallerConfig.from_environment()`)."""
    config = config or CallerConfig.from_environment()
    env = config.temporal_environment
    profile = ClientConfigProfile.load(override_env_vars=dict(env) if env is not None else None)
    options = profile.to_client_connect_config()
    options.setdefault("target_host", "127.0.0.1:7233")
    return await Client.connect(**options, data_converter=sealed_converter(config.codec()))

"""The one data converter shared by the worker, the client, the CLI, the gateway and replays.

Values become JSON through the pydantic converter (the workflow's inputs and results are
pydantic models), then every payload is encrypted by `EncryptionCodec`. Failures use the
encoded-attributes converter, so that their messages and stack traces are encrypted too:
Temporal otherwise stores them in clear.
"""

from __future__ import annotations

import dataclasses

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes

from onboarding.runtime.keyring import Keyring
from onboarding.runtime.secrets import load_keyring
from onboarding.runtime.settings import Settings
from onboarding.temporal.codec import EncryptionCodec


def data_converter(keyring: Keyring) -> DataConverter:
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(keyring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def data_converter_for(settings: Settings) -> DataConverter:
    """The converter with the configured keys; `SettingsError` when there are none."""
    return data_converter(load_keyring(settings))

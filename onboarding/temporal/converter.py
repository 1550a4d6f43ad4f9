"""The data converters of the product's processes: the caller's (`onboarding_client`), with
the keys of the product's settings, and the worker's, which never decodes a payload that
came in clear.

The worker's codec opens sealed payloads as every party's does; a payload that is neither
sealed nor a None (a caller that forgot the codec) leaves the codec emptied and marked
`binary/unsealed`, and the workflow receives it as `contracts.sealing.Unsealed`: the person's
data never reaches workflow code, and the onboarding refuses it (`request.not_encrypted`).
The codec server, the CLI and the console keep the caller's converter, which passes plain
payloads through: what Temporal itself writes unencrypted stays readable.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticPayloadConverter
from temporalio.converter import DataConverter, EncodingPayloadConverter

from contracts.sealing import ORIGINAL_ENCODING, UNSEALED_ENCODING, Unsealed
from onboarding.runtime.secrets import load_keyring
from onboarding.runtime.settings import Settings
from onboarding_client.codec import ENCODING, NULL_ENCODING, EncryptionCodec
from onboarding_client.connection import data_converter
from onboarding_client.keyring import Keyring

__all__ = ["data_converter", "data_converter_for", "worker_data_converter"]


def data_converter_for(settings: Settings, *, worker: bool = False) -> DataConverter:
    """The converter with the configured keys (the worker's, for a worker's client);
    `SettingsError` when there are none."""
    keyring = load_keyring(settings)
    return worker_data_converter(keyring) if worker else data_converter(keyring)


def worker_data_converter(keyring: Keyring) -> DataConverter:
    return dataclasses.replace(
        data_converter(keyring),
        payload_codec=RefusingCodec(keyring),
        payload_converter_class=UnsealedAwareConverter,
    )


class RefusingCodec(EncryptionCodec):
    """Opens sealed payloads; empties and marks one that came in clear."""

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decode(payload) for payload in payloads]

    def _decode(self, payload: Payload) -> Payload:
        encoding = payload.metadata.get("encoding", b"")
        if encoding in (ENCODING, NULL_ENCODING):
            return self.decrypt(payload)
        return Payload(metadata={"encoding": UNSEALED_ENCODING, ORIGINAL_ENCODING: encoding[:64]})


class UnsealedPayloadConverter(EncodingPayloadConverter):
    @property
    def encoding(self) -> str:
        return UNSEALED_ENCODING.decode()

    def to_payload(self, value: Any) -> Payload | None:
        return None  # never written: only what the codec marks is read as one

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        original = payload.metadata.get(ORIGINAL_ENCODING, b"")
        return Unsealed(original.decode("utf-8", "replace"))


class UnsealedAwareConverter(PydanticPayloadConverter):
    def __init__(self) -> None:
        super().__init__()
        self._set_converters(*self.converters.values(), UnsealedPayloadConverter())

"""The data converter of the product's processes: the caller's (`onboarding_client`),
with the keys of the product's settings."""

from __future__ import annotations

from temporalio.converter import DataConverter

from onboarding.runtime.secrets import load_keyring
from onboarding.runtime.settings import Settings
from onboarding_client.connection import data_converter

__all__ = ["data_converter", "data_converter_for"]


def data_converter_for(settings: Settings) -> DataConverter:
    """The converter with the configured keys; `SettingsError` when there are none."""
    return data_converter(load_keyring(settings))

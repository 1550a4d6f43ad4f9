"""The one data converter shared by the worker, the client, the CLI and replay tests."""

from __future__ import annotations

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter


def data_converter() -> DataConverter:
    return pydantic_data_converter

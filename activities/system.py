"""A remote system as the worker wires it: one descriptor per package of `activities/`.

A `RemoteSystem` says everything the rest of the product needs of a system, so that the
worker, the telemetry, the catalogs and `onboarding explain` loop over the descriptors
instead of naming each system: its name (its task queue's suffix, from `contracts/`), its
settings (read from the environment, with the fleet's budget of requests per second), its
error systems (catalog and envelope), its telemetry, and how to make its activities.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from activities.catalog import ErrorSystem
from activities.selfies.backend import SelfieBackend
from activities.selfies.cleanup import SelfieCleanup
from activities.telemetry import CallTelemetry


class SystemSettingsError(ValueError):
    """A system's setting is missing or wrong; the message is one line naming it."""


class SystemSettings(BaseSettings):
    """A remote system's settings: each field is an environment variable (its name
    upper-cased, after the model's `env_prefix`)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    # The whole fleet's budget of calls to the system: the server enforces it on the
    # system's task queue, however many workers poll it (every worker must say the same).
    requests_per_second: float = Field(default=5.0, gt=0)

    def check(self) -> bool:
        """Whether the system is configured: False when nothing is set (its activities then
        answer `configuration`, and an onboarding that needs it waits for an operator);
        `SystemSettingsError` when something is set wrong, or only half of it."""
        raise NotImplementedError


S = TypeVar("S", bound=SystemSettings)
B = TypeVar("B", bound=BaseSettings)
Activities = Sequence[Callable[..., Any]]


@dataclass(frozen=True)
class Shared:
    """What every system's activities may use, made once per worker."""

    selfies: SelfieBackend
    cleanup: SelfieCleanup
    payload_keys: Mapping[str, bytes]  # the payload keyring's keys, by id
    current_key_id: str


@dataclass(frozen=True)
class RemoteSystem(Generic[S]):
    name: str  # the task queue's suffix (`onboarding_client.contract.names.queue_for`)
    title: str  # for people: logs, `onboarding explain`
    settings: type[S]
    rate_setting: str  # the variable that holds `requests_per_second`
    error_systems: tuple[ErrorSystem, ...]
    telemetry: CallTelemetry
    activities: Callable[[S, Shared], AbstractAsyncContextManager[Activities]]
    # A failure of this system's calls ends its step `failed`, never the identity outcome.
    after_approval: bool = False

    def load_settings(self) -> S:
        """The settings from the environment; `SystemSettingsError` in one line."""
        return load(self.settings)


def load(model: type[B]) -> B:
    """Settings from the environment; `SystemSettingsError` in one line naming the variable."""
    try:
        return model()
    except ValidationError as exc:
        first = exc.errors()[0]
        prefix = str(model.model_config.get("env_prefix") or "")
        field = prefix + ".".join(str(part) for part in first["loc"])
        raise SystemSettingsError(f"{field.upper()}: {first['msg']}") from None


def all_or_nothing(system: str, given: Mapping[str, object]) -> bool:
    """Whether every setting is given; some but not all is refused, naming the missing."""
    missing = [name for name, value in given.items() if not value]
    if missing and len(missing) < len(given):
        raise SystemSettingsError(f"{system} half configured: missing {', '.join(missing)}")
    return not missing

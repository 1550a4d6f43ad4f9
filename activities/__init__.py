"""Every side effect on a remote system, and nothing else: one package per system.

`SYSTEMS` lists the remote systems' descriptors (`system.RemoteSystem`): what the worker
wires, the catalogs `onboarding explain` reads, the budgets the server enforces. Beside
them: the selfie store (`activities.selfies`), the deployment's defaults that the
workflow asks for as a local activity, and the deletion of a run whose input came in clear.
"""

from __future__ import annotations

from activities import guardian, identity_cloud, unico
from activities.catalog import Catalog, CatchAll, Entry, ErrorSystem
from activities.deployment import DeploymentDefaults
from activities.errors import Classification, classification
from activities.history import HistoryKeeper
from activities.system import (
    RemoteSystem,
    Shared,
    SystemSettings,
    SystemSettingsError,
    load,
)

SYSTEMS: tuple[RemoteSystem[SystemSettings], ...] = (
    unico.SYSTEM,
    identity_cloud.SYSTEM,
    guardian.SYSTEM,
)  # type: ignore[assignment]


def error_systems() -> tuple[ErrorSystem, ...]:
    """Every error system any remote system answers with, in the systems' order."""
    return tuple(errors for system in SYSTEMS for errors in system.error_systems)


def error_system(name: str) -> ErrorSystem:
    """The error system called `name` (`unico-auth`, `identity-cloud`, ...)."""
    for errors in error_systems():
        if errors.name == name:
            return errors
    known = ", ".join(errors.name for errors in error_systems())
    raise ValueError(f"unknown error system {name!r} (known: {known})")


__all__ = [
    "SYSTEMS",
    "Catalog",
    "CatchAll",
    "Classification",
    "DeploymentDefaults",
    "Entry",
    "ErrorSystem",
    "HistoryKeeper",
    "RemoteSystem",
    "Shared",
    "SystemSettings",
    "SystemSettingsError",
    "classification",
    "error_system",
    "error_systems",
    "load",
]

"""The two ways a process of ours refuses to go on, each told in one line."""

from __future__ import annotations


class SettingsError(Exception):
    """A setting is missing or wrong; the message is one line for the operator."""


class StackUnavailable(Exception):
    """Temporal (or the gateway) cannot be reached; the message says which and where."""

"""The one-line errors the CLI and the app turn into a message, importable without the sync engine,
the config machinery or a database (so a command that only prints help never loads them)."""

from __future__ import annotations

__all__ = ["ConfigError", "SyncError"]


class ConfigError(Exception):
    """A config problem, said in one line."""


class SyncError(Exception):
    """Sync could not finish; the message is one line saying what and what to do."""

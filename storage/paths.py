"""Where the cache lives and which layout it has: importable without SQLAlchemy, so the command line
can find (and, for a look-up already answered, read) the cache without loading the ORM."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SCHEMA_VERSION", "default_cache_path", "resolve_cache_path"]

SCHEMA_VERSION = 5  # 2: drafts.macro_id (the macro the box's text came from); 3: drafts.actions (what happens on send);
# 4: outbox.last_failure (the server's last failing answer to the change); 5: outbox.tries (its failed rounds)


def default_cache_path() -> Path:
    """<data dir>/cache.db: AGENT_TUI_DATA_DIR (as agent_tui.locations.data_dir) or the platform's."""
    from platformdirs import user_data_dir

    return Path(os.environ.get("AGENT_TUI_DATA_DIR") or user_data_dir("agent-tui", appauthor=False)) / "cache.db"


def resolve_cache_path(configured: str | os.PathLike | None = None) -> Path:
    """AGENT_TUI_CACHE beats the config file, which beats the platform default."""
    env = os.environ.get("AGENT_TUI_CACHE")
    if env:
        return Path(env).expanduser()
    if configured:
        return Path(configured).expanduser()
    return default_cache_path()

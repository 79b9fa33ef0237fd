"""The cache read without the ORM, for the command line's fast path: a look-up whose verdict is
cached answers without SQLAlchemy being imported. Only a cache file that exists at the current
layout is read this way; anything else (new, older, newer, unreadable) goes through storage.cache,
which creates, migrates or rebuilds it.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Optional

import orjson

from storage.lookups import LookupCache
from storage.paths import SCHEMA_VERSION

__all__ = ["QuickCache"]


def _read_only(path: Path) -> sqlite3.Connection:
    # a file: URI from the path itself, so '?', '#' or '%' in it cannot change which file is opened
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=5)


class QuickCache:
    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def open_if_current(cls, path: Path) -> Optional["QuickCache"]:
        try:
            if not path.is_file():
                return None
            with contextlib.closing(_read_only(path)) as db:
                if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                    return None
                db.execute("SELECT 1 FROM lookup_results LIMIT 1").fetchall()
                db.execute("SELECT 1 FROM asset_config LIMIT 1").fetchall()
        except sqlite3.Error:
            return None
        return cls(path)

    def asset_config(self) -> dict:
        with contextlib.closing(_read_only(self.path)) as db:
            rows = db.execute("SELECT body FROM asset_config ORDER BY network").fetchall()
        return {"networks": [orjson.loads(r[0]) for r in rows]}

    def lookup_cache(self, pending_ttl: float = 60.0) -> LookupCache:
        return LookupCache(self.path, pending_ttl=pending_ttl)

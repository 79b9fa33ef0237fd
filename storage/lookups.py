"""Deposit look-up results cached in SQLite (table `lookup_results`).

A final verdict (settled chain facts) is kept for good; anything else only for `pending_ttl` seconds
and purged on the next write. Implements agent_tui.chains.cache.ResultCache.

It runs on the cache's SQLAlchemy engine (the app), or on the cache file through the standard
library's sqlite3 (the command line answering a look-up it already has, without loading the ORM).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any, Callable, Optional

import orjson

from agent_tui.chains.diagnose import Verdict

__all__ = ["LookupCache"]

_UPSERT = ("INSERT INTO lookup_results (key, txid, network, body, final, fetched_at) VALUES (?, ?, ?, ?, ?, ?) "
           "ON CONFLICT(key) DO UPDATE SET txid = excluded.txid, network = excluded.network, body = excluded.body, "
           "final = excluded.final, fetched_at = excluded.fetched_at")
_PURGE = "DELETE FROM lookup_results WHERE final = 0 AND fetched_at < ?"


class LookupCache:
    def __init__(self, target: Any, *, pending_ttl: float = 60.0, clock: Callable[[], float] = time.time):
        """`target`: the cache's SQLAlchemy Engine, or the path of a cache file at the current layout."""
        self.engine: Any = target if not isinstance(target, (str, Path)) else None
        self.path = Path(target) if isinstance(target, (str, Path)) else None
        self.pending_ttl = pending_ttl
        self.clock = clock

    def _connect(self) -> sqlite3.Connection:
        # never creates the file (a missing cache is the ORM's to make, private and migrated)
        assert self.path is not None
        return sqlite3.connect(self.path.resolve().as_uri() + "?mode=rw", uri=True, timeout=5, isolation_level=None)

    def _read(self, sql: str, params: tuple) -> Optional[tuple]:
        if self.path is not None:
            with contextlib.closing(self._connect()) as db:
                return db.execute(sql, params).fetchone()
        with self.engine.connect() as conn:
            row = conn.exec_driver_sql(sql, params).first()
        return None if row is None else tuple(row)

    def _write(self, statements: list[tuple[str, tuple]]) -> int:
        """Run the statements in one transaction; the rows the first one changed."""
        if self.path is not None:
            with contextlib.closing(self._connect()) as db:
                try:
                    db.execute("BEGIN IMMEDIATE")
                    counts = [db.execute(sql, params).rowcount for sql, params in statements]
                    db.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):  # the first error is the one to report
                        db.execute("ROLLBACK")
                    raise
            return int(counts[0] or 0) if counts else 0
        from storage.db import write_tx

        with write_tx(self.engine) as conn:
            counts = [conn.exec_driver_sql(sql, params).rowcount for sql, params in statements]
        return int(counts[0] or 0) if counts else 0

    def get(self, key: str) -> Optional[Verdict]:
        row = self._read("SELECT body, final, fetched_at FROM lookup_results WHERE key = ?", (key,))
        if row is None:
            return None
        body, final, fetched_at = row
        if not final and self.clock() - fetched_at > self.pending_ttl:
            return None
        try:
            return Verdict.from_dict(orjson.loads(body))
        except (orjson.JSONDecodeError, TypeError, ValueError):
            return None  # a corrupt row is a miss; the next put replaces it

    def put(self, key: str, verdict: Verdict) -> None:
        """File a verdict, and drop the non-final ones that expired meanwhile: the table holds the final
        verdicts, kept for good, plus what the last `pending_ttl` seconds looked up."""
        self._write([(_PURGE, (self.clock() - self.pending_ttl,)),
                     (_UPSERT, (key, verdict.txid or key.split("|", 1)[0], verdict.network or "",
                                orjson.dumps(verdict.to_dict()).decode(), bool(verdict.final), self.clock()))])

    def purge_expired(self) -> int:
        return self._write([(_PURGE, (self.clock() - self.pending_ttl,))])

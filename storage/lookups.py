"""Deposit look-up results cached in SQLite (table `lookup_results`).

A final verdict (settled chain facts) is kept for good; anything else only for `pending_ttl` seconds
and purged on the next write. Implements agent_tui.chains.cache.ResultCache.
"""

from __future__ import annotations

import time
from typing import Callable, Optional

import orjson
from sqlalchemy.engine import Connection, Engine

from agent_tui.chains.diagnose import Verdict
from storage.db import write_tx

__all__ = ["LookupCache"]


class LookupCache:
    def __init__(self, engine: Engine, *, pending_ttl: float = 60.0, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.pending_ttl = pending_ttl
        self.clock = clock

    def get(self, key: str) -> Optional[Verdict]:
        with self.engine.connect() as conn:
            row = conn.exec_driver_sql("SELECT body, final, fetched_at FROM lookup_results WHERE key = ?", (key,)).first()
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
        with write_tx(self.engine) as conn:
            self._purge(conn)
            conn.exec_driver_sql(
                "INSERT INTO lookup_results (key, txid, network, body, final, fetched_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET txid = excluded.txid, network = excluded.network, body = excluded.body, "
                "final = excluded.final, fetched_at = excluded.fetched_at",
                (key, verdict.txid or key.split("|", 1)[0], verdict.network or "", orjson.dumps(verdict.to_dict()).decode(),
                 bool(verdict.final), self.clock()))

    def purge_expired(self) -> int:
        with write_tx(self.engine) as conn:
            return self._purge(conn)

    def _purge(self, conn: Connection) -> int:
        res = conn.exec_driver_sql("DELETE FROM lookup_results WHERE final = 0 AND fetched_at < ?",
                                   (self.clock() - self.pending_ttl,))
        return int(res.rowcount or 0)

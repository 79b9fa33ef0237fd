"""The SQLite engine of the local cache: WAL, file mode 0600, schema versions and migrations.

An older cache is upgraded step by step; a cache we cannot read (newer schema, unknown layout,
not a database at all) is rebuilt empty and pulled again from the server. Local work that the
server does not have yet (the outbox, drafts, rejections) is carried across a rebuild.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from agent_tui import sqlite_setup
from storage import models
from storage.models import SCHEMA_VERSION
from storage.paths import default_cache_path, resolve_cache_path  # noqa: F401  (re-exported)

# Tables whose rows exist only here until the server confirms them: never thrown away.
LOCAL_ONLY = ("outbox", "drafts", "rejections")


def _add_column(table: str, column: str, ddl: str) -> Callable[[Connection], None]:
    """A migration that adds one column (unless a half-done upgrade already added it)."""
    def step(conn: Connection) -> None:
        if column not in {r[1] for r in conn.exec_driver_sql(f"PRAGMA table_info({table})")}:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")
    step.__name__ = f"add_{table}_{column}"
    return step


# MIGRATIONS[n] upgrades a cache at schema version n to n + 1, inside one transaction.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    # drafts.macro_id: which macro the draft's text came from (counted as a use when sent)
    1: _add_column("drafts", "macro_id", "VARCHAR"),
    # drafts.actions: a macro's ticket actions wait with the draft and go out only with the reply
    2: _add_column("drafts", "actions", "TEXT NOT NULL DEFAULT ''"),
    # outbox.last_failure: the server's last failing answer to a change, kept across sync rounds
    3: _add_column("outbox", "last_failure", "TEXT NOT NULL DEFAULT ''"),
    # outbox.tries: the rounds a change was deferred in, so its retry wait grows while the server is down
    4: _add_column("outbox", "tries", "INTEGER NOT NULL DEFAULT 0"),
}


def write_tx(engine: Engine, durable: bool = True):
    """A write transaction: `with write_tx(engine) as conn: ...` commits or rolls back.

    durable=False is for data the server can give again (pulled pages): no fsync per commit."""
    return engine.execution_options(sqlite_immediate=True, sqlite_durable=durable).begin()


def make_engine(path: Path) -> Engine:
    # Writers (write_tx) take the write lock up front (no SQLITE_BUSY on a read-to-write upgrade);
    # readers stay deferred so they never wait for the sync worker in WAL mode. FULL: a local change
    # and its outbox row survive power loss; NORMAL for pulled pages (durable=False): they survive an
    # app crash, and a page lost to a power cut is simply pulled again.
    return sqlite_setup.make_engine(path, busy_timeout=10, synchronous="FULL", writer_option="sqlite_immediate",
                                    durable_option="sqlite_durable", foreign_keys=False, private=True)


@dataclass
class OpenResult:
    engine: Engine
    path: Path
    notes: list[str] = field(default_factory=list)  # one line each: what happened on opening


def _user_version(conn: Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)


def _table_names(conn: Connection) -> set[str]:
    rows = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'").all()
    return {r[0] for r in rows}


def _save_local(conn: Connection) -> dict[str, list[dict]]:
    saved: dict[str, list[dict]] = {}
    tables = _table_names(conn)
    for name in LOCAL_ONLY:
        if name in tables:
            try:
                saved[name] = [dict(r._mapping) for r in conn.exec_driver_sql(f"SELECT * FROM {name}")]
            except Exception:  # an unreadable old layout: nothing we can carry
                saved[name] = []
    return saved


def _restore_local(conn: Connection, saved: dict[str, list[dict]]) -> int:
    restored = 0
    for name, rows in saved.items():
        table = SQLModel.metadata.tables[name]
        cols = set(table.c.keys())
        for row in rows:
            values = {k: v for k, v in row.items() if k in cols}
            try:
                conn.execute(table.insert().values(**values))
                restored += 1
            except Exception:
                continue  # a row the new layout cannot hold is better lost than crashing the app
    return restored


def _rebuild(conn: Connection, why: str, notes: list[str]) -> None:
    saved = _save_local(conn)
    for name in _table_names(conn):
        if not name.startswith("sqlite_"):
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')
    SQLModel.metadata.create_all(conn)
    kept = _restore_local(conn, saved)
    conn.exec_driver_sql(f"PRAGMA user_version={SCHEMA_VERSION}")
    notes.append(f"Cache rebuilt ({why}); it will be pulled again from the server. Kept {kept} local changes and drafts.")


BULK_TABLES = ("tickets", "messages")  # the tables a first sync fills by the hundred thousand


def bulk_indexes() -> list:
    """The secondary indexes a bulk load may drop and build afterwards (never a primary key)."""
    return [idx for name in BULK_TABLES for idx in sorted(SQLModel.metadata.tables[name].indexes, key=lambda i: str(i.name))]


def ensure_indexes(conn: Connection) -> int:
    """Create every declared index that is missing (a bulk load cut short by a crash leaves some out).
    Returns how many were built."""
    have = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
    built = 0
    for table in SQLModel.metadata.sorted_tables:
        for idx in table.indexes:
            if idx.name not in have:
                idx.create(conn)
                built += 1
    return built


def migrate(engine: Engine) -> list[str]:
    notes: list[str] = []
    with write_tx(engine) as conn:
        version = _user_version(conn)
        tables = _table_names(conn)
        if version == 0 and not tables:
            SQLModel.metadata.create_all(conn)
            conn.exec_driver_sql(f"PRAGMA user_version={SCHEMA_VERSION}")
            return notes
        if version == SCHEMA_VERSION:
            SQLModel.metadata.create_all(conn)  # a table added without a layout change
            ensure_indexes(conn)  # and any index a cut-short first sync did not build yet
            return notes
        if version > SCHEMA_VERSION:
            _rebuild(conn, f"written by a newer agent-tui, schema {version}", notes)
            return notes
        if version == 0:
            _rebuild(conn, "unknown layout", notes)
            return notes
        start = version
        try:
            while version < SCHEMA_VERSION:
                step = MIGRATIONS.get(version)
                if step is None:
                    raise LookupError(f"no migration from schema {version}")
                step(conn)
                version += 1
                conn.exec_driver_sql(f"PRAGMA user_version={version}")
            ensure_indexes(conn)
            notes.append(f"Cache upgraded from schema {start} to {SCHEMA_VERSION}.")
        except Exception as exc:
            _rebuild(conn, f"upgrade from schema {start} failed: {exc}", notes)
    return notes


def open_engine(path: Path) -> OpenResult:
    """Open (creating, upgrading or rebuilding) the cache at path."""
    notes: list[str] = []
    engine = make_engine(path)
    try:
        notes += migrate(engine)
    except sqlite3.DatabaseError as exc:  # via SQLAlchemy's wrapper too
        notes.append(_quarantine(engine, path, exc))
        engine = make_engine(path)
        notes += migrate(engine)
    except Exception as exc:
        if "not a database" not in str(exc) and "malformed" not in str(exc):
            raise
        notes.append(_quarantine(engine, path, exc))
        engine = make_engine(path)
        notes += migrate(engine)
    return OpenResult(engine=engine, path=path, notes=notes)


def _quarantine(engine: Engine, path: Path, exc: Exception) -> str:
    engine.dispose()
    aside = path.with_name(f"{path.name}.unreadable-{int(time.time())}")
    os.replace(path, aside)
    for suffix in ("-wal", "-shm"):
        side = Path(str(path) + suffix)
        if side.exists():
            side.unlink()
    return f"The cache file could not be read; moved it to {aside.name} and started a new one."


__all__ = [
    "MIGRATIONS",
    "OpenResult",
    "default_cache_path",
    "migrate",
    "models",
    "open_engine",
    "resolve_cache_path",
    "text",
    "write_tx",
]

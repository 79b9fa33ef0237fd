"""How agent-tui opens a SQLite database, for the client's cache (storage/db.py) and the reference
server (backend/schema.py) alike: WAL, a busy timeout, SQLAlchemy driving BEGIN, writers that take
the write lock up front, and optionally a file only its owner can read (mode 0600).

No textual, no storage: the backend imports this too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Optional

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine


def create_private(path: Path) -> None:
    """Create path (and its folder) readable by its owner only; tighten it if it exists. SQLite gives
    the -wal and -shm files it creates beside it the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)  # also tightens a file an older version left readable


def make_engine(path: Optional[os.PathLike | str], *, busy_timeout: float, synchronous: Literal["FULL", "NORMAL"],
                writer_option: str, durable_option: Optional[str] = None, foreign_keys: Optional[bool] = None,
                private: bool = True, **engine_kw: Any) -> Engine:
    """An engine on the SQLite file at path (None: in memory).

    busy_timeout: seconds a statement waits for another connection's lock.
    synchronous: the connection's PRAGMA synchronous.
    writer_option: the execution option that marks a writer: its transaction starts with BEGIN IMMEDIATE,
        so it never hits SQLITE_BUSY when a read turns into a write; readers stay deferred (in WAL they
        never wait for a writer).
    durable_option: if given, the execution option (default true) that picks synchronous=FULL or NORMAL
        for each writer transaction.
    foreign_keys: PRAGMA foreign_keys, when given.
    private: create the file with mode 0600 first.
    engine_kw: passed to create_engine (pool sizes).
    """
    if path is not None and private:
        create_private(Path(path))
    engine = create_engine(
        URL.create("sqlite", database=None if path is None else str(path)),  # a '?' in the path is no query
        connect_args={"check_same_thread": False, "timeout": busy_timeout},
        **engine_kw,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # SQLAlchemy's transaction handling drives BEGIN, so a `with engine.begin()` is one SQLite
        # transaction (pysqlite's own implicit BEGIN would defer it past the first SELECT).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        if foreign_keys is not None:
            cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        opts = conn.get_execution_options()
        if not opts.get(writer_option):
            conn.exec_driver_sql("BEGIN")
            return
        if durable_option is not None:
            conn.exec_driver_sql("PRAGMA synchronous=" + ("FULL" if opts.get(durable_option, True) else "NORMAL"))
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine

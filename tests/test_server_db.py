"""The reference server's SQLite database: like the client's cache, only its owner can read it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from backend.schema import make_engine
from backend.seed import seed
from backend.server import prepare


def _mode(p: Path) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_a_fresh_server_database_and_its_wal_and_shm_are_0600(tmp_path):
    db = tmp_path / "backend.db"
    old = os.umask(0o022)  # the usual umask: files SQLite creates on its own come out 0644
    try:
        prepare(f"sqlite:///{db}", fresh=True)
        engine = make_engine(f"sqlite:///{db}")
        try:
            with engine.connect() as conn:  # an open connection keeps -wal and -shm on disk
                seed(engine, tickets=5)
                conn.exec_driver_sql("SELECT count(*) FROM tickets").scalar()
                files = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
                assert all(p.exists() for p in files), [p.name for p in files if not p.exists()]
                assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
        finally:
            engine.dispose()
    finally:
        os.umask(old)


def test_a_loose_old_server_database_is_tightened_to_0600(tmp_path):
    db = tmp_path / "backend.db"
    prepare(f"sqlite:///{db}", fresh=True)
    os.chmod(db, 0o644)
    make_engine(f"sqlite:///{db}").dispose()
    assert _mode(db) == 0o600

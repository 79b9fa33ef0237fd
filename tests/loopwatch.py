"""Which SQL runs on the event loop? A listener on every SQLAlchemy engine and on the standard library's
sqlite3 connections the cache opens records each statement issued from a thread that is running an
asyncio event loop: the UI's thread. A statement there makes every key and tick wait on SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import traceback
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _caller() -> str:
    """The innermost frame in the project's own code outside storage/: who asked for the SQL."""
    for frame in reversed(traceback.extract_stack()[:-3]):
        f = frame.filename.replace("\\", "/")
        if ("/agent_tui/" in f or "/widgets/" in f) and "/site-packages/" not in f:
            return f"{f.rsplit('/', 2)[-2]}/{f.rsplit('/', 1)[-1]} {frame.name}"
    return "?"


@dataclass
class LoopWatch:
    on_loop: list[tuple[str, str]] = field(default_factory=list)
    off_loop: int = 0

    def record(self, statement: str) -> None:
        if _on_loop():
            self.on_loop.append((_caller(), " ".join(str(statement).split())[:100]))
        else:
            self.off_loop += 1

    def summary(self) -> str:
        seen: dict[str, str] = {}
        for where, sql in self.on_loop:
            seen.setdefault(where, sql)
        return "\n".join(f"  {where}: {sql}" for where, sql in seen.items())


@contextlib.contextmanager
def watch_sql():
    """Yield a LoopWatch recording every statement while the block runs."""
    w = LoopWatch()

    def before(_conn, _cursor, statement, *_a):
        w.record(statement)

    event.listen(Engine, "before_cursor_execute", before)
    real_connect = sqlite3.connect

    class Traced(sqlite3.Connection):
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.set_trace_callback(w.record)

    def connect(*a, **kw):
        kw.setdefault("factory", Traced)
        return real_connect(*a, **kw)

    sqlite3.connect = connect
    try:
        yield w
    finally:
        sqlite3.connect = real_connect
        event.remove(Engine, "before_cursor_execute", before)

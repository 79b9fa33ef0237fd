"""A local cache filled from the real seeded backend, without HTTP (shared by the UI and macro tests)."""

from __future__ import annotations

from pathlib import Path

import orjson

from backend import service as svc
from backend.schema import make_engine
from backend.seed import seed
from storage.cache import Cache

FROZEN = 1795392000.0  # 2026-11-23 00:00 UTC


def pull_into(engine, cache: Cache) -> None:
    """Apply the backend's whole changes feed to the cache, as a first sync would (minus HTTP)."""
    cursor = 0
    with engine.connect() as conn:
        while True:
            page = svc.changes(conn, cursor, 5000)
            cache.apply_page(orjson.loads(orjson.dumps(page.body)), str(page.cursor))
            cursor = page.cursor
            if not page.has_more:
                break


def seeded_cache(tmp_path: Path, tickets: int = 200, now: float = FROZEN, name: str = "macro") -> Cache:
    engine = make_engine(f"sqlite:///{tmp_path / f'{name}-backend.db'}")
    seed(engine, tickets=tickets, now=now)
    cache = Cache.open(tmp_path / f"{name}-cache.db")
    pull_into(engine, cache)
    engine.dispose()
    return cache

"""Look-up results cached in SQLite (table storage.models.LookupResult).

A final verdict (settled chain facts) is kept for good; anything else only for `pending_ttl` seconds.
The key covers the txid, the claimed network and a digest of the customer context, since the verdict
depends on all three.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Callable, Mapping, Optional

import orjson
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from storage.models import LookupResult

from .diagnose import Verdict


def cache_key(txid: str, network: Optional[str], customer: Optional[Mapping[str, Any]]) -> str:
    digest = hashlib.sha256(orjson.dumps(customer or {}, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)).hexdigest()[:16]
    t = txid.strip().lower()
    return f"{t}|{(network or '').lower()}|{digest}"


class LookupCache:
    def __init__(self, engine: Engine, *, pending_ttl: float = 60.0, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.pending_ttl = pending_ttl
        self.clock = clock

    def get(self, key: str) -> Optional[Verdict]:
        with Session(self.engine) as s:
            row = s.execute(select(LookupResult.body, LookupResult.final, LookupResult.fetched_at).where(LookupResult.key == key)).first()
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
        row = LookupResult(key=key, txid=verdict.txid or key.split("|", 1)[0], network=verdict.network or "",
                           body=orjson.dumps(verdict.to_dict()).decode(), final=bool(verdict.final), fetched_at=self.clock())
        with Session(self.engine) as s:
            s.merge(row)
            s.commit()

    def purge_expired(self) -> int:
        with Session(self.engine) as s:
            res = s.execute(delete(LookupResult).where(LookupResult.final.is_(False), LookupResult.fetched_at < self.clock() - self.pending_ttl))
            s.commit()
            return res.rowcount or 0

"""What the look-up needs of a result cache, and the key it files a verdict under.

The key covers the txid, the claimed network and a digest of the customer context, since the verdict
depends on all three. The cache itself lives with the client's storage (storage.lookups.LookupCache,
SQLite): the chains core runs no SQL and knows no database.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping, Optional, Protocol

import orjson

from .diagnose import Verdict


def cache_key(txid: str, network: Optional[str], customer: Optional[Mapping[str, Any]]) -> str:
    digest = hashlib.sha256(orjson.dumps(customer or {}, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)).hexdigest()[:16]
    t = txid.strip().lower()
    return f"{t}|{(network or '').lower()}|{digest}"


class ResultCache(Protocol):
    """A verdict store: `get` gives a verdict still good to serve (or None), `put` files one."""

    def get(self, key: str) -> Optional[Verdict]: ...

    def put(self, key: str, verdict: Verdict) -> None: ...

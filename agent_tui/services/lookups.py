"""Deposit look-ups as the screens run them, without Textual: the desk's asset config and endpoints,
the server's ledger when signed in, the customer's context, one look-up that never raises, a pasted
batch parsed, and the history of cached results.

Never imports textual, widgets or themes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

import orjson

from agent_tui.chains import (
    ChainError,
    Verdict,
    default_asset_config,
    load_endpoints,
    lookup,
)
from agent_tui.chains.addresses import parse_txid
from agent_tui.chains.ledger import LEDGER_KEYS, LedgerSource, server_ledger
from agent_tui.chains.transport import Limits
from agent_tui.textsafe import one_line

__all__ = ["BatchItem", "HISTORY_LIMIT", "LEDGER_KEYS", "MAX_BATCH", "asset_config_of", "customer_context", "endpoints_of",
           "ledger_of", "parse_batch", "recent_lookups", "run_one"]

MAX_BATCH = 1000  # lines looked up per run; more are reported, not run
HISTORY_LIMIT = 500

_SPLIT = re.compile(r"[\s,;]+")


def asset_config_of(app: Any) -> dict:
    """The exchange's listing from the cache; the built-in one while the cache has none yet."""
    try:
        cfg = app.cache.asset_config()
    except Exception:
        cfg = None
    if not isinstance(cfg, dict) or not cfg.get("networks"):
        return default_asset_config()
    return cfg


def endpoints_of(app: Any) -> dict:
    """Endpoints from settings.rpc (and AGENT_TUI_RPC_*). Raises InvalidInput for a malformed one."""
    return load_endpoints(getattr(getattr(app, "settings", None), "rpc", None) or None)


def ledger_of(app: Any) -> Optional[LedgerSource]:
    """The backend's ledger when the app is signed in (a server and a token), else None (not checked)."""
    url, token = getattr(app, "server_url", None), getattr(app, "token", None)
    if isinstance(url, str) and url and isinstance(token, str) and token:
        return server_ledger(url, token)
    return None


def customer_context(customer: Optional[dict]) -> Optional[dict]:
    """The look-up's customer context from cache.customer(): deposit addresses and the ledger slice."""
    if not customer:
        return None
    addrs = [{"network": a.get("network"), "asset": a.get("asset"), "address": a.get("address"), "memo": a.get("memo")}
             for a in customer.get("addresses") or []]
    # the cached slice is this customer's own: the rows say so, as the server's ledger rows do
    ledger = [{**{k: d.get(k) for k in LEDGER_KEYS}, "customer_id": d.get("customer_id") or customer.get("id")}
              for d in customer.get("deposits") or []]
    return {"id": customer.get("id"), "addresses": addrs, "ledger": ledger}


async def run_one(app: Any, txid: str, network: Optional[str], customer: Optional[dict], *, limits: Optional[Limits] = None,
                  http: Any = None, endpoints: Any = None, asset_config: Optional[dict] = None,
                  ledger: Any = "app") -> tuple[Optional[Verdict], str]:
    """One look-up as the screens do it: (verdict, "") or (None, one line saying why not). Never raises."""
    try:
        eps = endpoints if endpoints is not None else endpoints_of(app)
        cfg = asset_config if asset_config is not None else asset_config_of(app)
        cache = app.cache.lookup_cache()
        verdict = await lookup(txid, network=network or None, customer=customer, asset_config=cfg, endpoints=eps,
                               cache=cache, limits=limits, http=http, ledger=ledger_of(app) if ledger == "app" else ledger)
        return verdict, ""
    except ChainError as e:
        return None, one_line(str(e), 300)
    except Exception as e:  # a bug must not take the screen down; say what kind of failure it was
        return None, f"look-up failed unexpectedly ({one_line(e.__class__.__name__, 60)})"


@dataclass
class BatchItem:
    line: int  # 1-based line in the pasted text
    txid: str
    network: Optional[str] = None
    error: str = ""  # set when the line cannot be looked up at all


def parse_batch(text: str, limit: int = MAX_BATCH) -> tuple[list[BatchItem], int, int]:
    """(items, duplicates skipped, lines over the limit). Never raises; bad lines become items with an error."""
    items: list[BatchItem] = []
    seen: set[tuple[str, Optional[str]]] = set()
    dups = over = 0
    for n, raw in enumerate((text or "").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(items) >= limit:
            over += 1
            continue
        parts = [p for p in _SPLIT.split(line) if p]
        txid = parts[0]
        network = parts[1].lower() if len(parts) > 1 else None
        if len(parts) > 2:
            items.append(BatchItem(n, one_line(txid, 70), network, "expected: TXID [NETWORK]"))
            continue
        try:
            key = parse_txid(txid).hex
        except ChainError as e:
            items.append(BatchItem(n, one_line(txid, 70), network, one_line(str(e), 200)))
            continue
        if (key, network) in seen:
            dups += 1
            continue
        seen.add((key, network))
        items.append(BatchItem(n, txid, network))
    return items, dups, over


def recent_lookups(cache: Any, limit: int = HISTORY_LIMIT) -> list[dict]:
    """The cached look-up results, newest first: txid, claimed network, network, code, final, fetched_at, verdict."""
    out = []
    for row in cache.recent_lookups(limit):
        try:
            verdict: Optional[Verdict] = Verdict.from_dict(orjson.loads(row["body"]))
        except (orjson.JSONDecodeError, TypeError, ValueError, AttributeError):
            verdict = None
        parts = str(row["key"]).split("|")
        out.append({"key": row["key"], "txid": row["txid"], "claimed": parts[1] if len(parts) > 2 and parts[1] else None,
                    "network": row["network"] or None, "code": verdict.code if verdict else None, "final": bool(row["final"]),
                    "fetched_at": float(row["fetched_at"] or 0), "verdict": verdict})
    return out

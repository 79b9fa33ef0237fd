"""The exchange's deposit ledger, read from the backend: GET /api/v1/ledger?txid=... (every row for one
transaction, whoever's account it credited). A look-up that reaches a verdict on a valid deposit
consults it before saying the deposit is uncredited; without it the verdict says the ledger was not
checked and never suggests a credit."""

from __future__ import annotations

from typing import Awaitable, Callable, Optional

import httpx

from .errors import ChainError, clean
from .transport import verified_context

LedgerSource = Callable[[str], Awaitable[list[dict]]]  # bare lower-case txid hex -> ledger rows
LEDGER_KEYS = ("txid", "network", "asset", "amount", "output_index", "status", "customer_id")
MAX_ROWS = 1000


class LedgerUnavailable(ChainError):
    """The backend's ledger could not be read (not reachable, refused, answered something unusable)."""


def server_ledger(url: str, token: str, *, timeout: float = 5.0, transport: Optional[httpx.AsyncBaseTransport] = None) -> LedgerSource:
    """The backend's ledger as a LedgerSource. Raises LedgerUnavailable (one line) when it cannot be read.

    One source serves a whole batch: once the server could not be reached, the later look-ups of that
    batch do not wait for it again (a thousand lines would otherwise each wait for the timeout)."""
    base = url.rstrip("/")
    down: list[str] = []

    async def rows(txid: str) -> list[dict]:
        if down:
            raise LedgerUnavailable(down[0] + " (earlier in this run; not tried again)")
        try:
            async with httpx.AsyncClient(timeout=timeout, trust_env=False, transport=transport, verify=verified_context()) as client:
                r = await client.get(f"{base}/api/v1/ledger", params={"txid": txid}, headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError as e:
            down.append(f"the ledger at {clean(base, 80)} could not be reached ({e.__class__.__name__})")
            raise LedgerUnavailable(down[0]) from None
        if r.status_code != 200:
            raise LedgerUnavailable(f"the ledger at {clean(base, 80)} answered HTTP {r.status_code}")
        try:
            deposits = r.json()["deposits"]
            if not isinstance(deposits, list) or len(deposits) > MAX_ROWS or not all(isinstance(d, dict) for d in deposits):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise LedgerUnavailable(f"the ledger at {clean(base, 80)} answered something unusable") from None
        return [{k: d.get(k) for k in LEDGER_KEYS} for d in deposits]

    return rows

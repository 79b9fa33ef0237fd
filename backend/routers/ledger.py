"""The deposit ledger by transaction: what a look-up consults before it calls a deposit uncredited."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from backend import schema as S
from backend import service as svc
from backend.deps import Agent, Db

API = "/api/v1"
router = APIRouter()

TXID_PATTERN = r"^(0[xX])?[0-9a-fA-F]{64}$"
LEDGER_ROW_LIMIT = 1000  # rows one txid may have in the answer (a client takes more as a broken answer)


class LedgerRow(BaseModel):
    """One deposit the exchange recorded: `output_index` is the UTXO output or EVM/Tron log index."""

    id: int
    customer_id: int
    txid: str
    network: str
    asset: str
    amount: str
    output_index: Optional[int] = None
    status: str
    created_at: float


class LedgerOut(BaseModel):
    deposits: list[LedgerRow]


@router.get(f"{API}/ledger", tags=["customers"], response_model=LedgerOut)
def ledger(engine: Db, agent: Agent,
           txid: str = Query(..., pattern=TXID_PATTERN, description="64 hex characters, 0x-prefixed or not, any case"),
           network: Optional[str] = Query(None, pattern=r"^[A-Za-z0-9_-]{1,32}$", description="Only rows of this network")):
    """The deposit ledger's rows for one transaction, whoever's account they credited: what a look-up
    consults before it calls a deposit uncredited. The txid matches with or without 0x, in any case."""
    bare = txid.lower().removeprefix("0x")
    q = select(S.deposits).where(func.lower(S.deposits.c.txid).in_([bare, "0x" + bare])).limit(LEDGER_ROW_LIMIT)
    if network:
        q = q.where(func.lower(S.deposits.c.network) == network.lower())
    with engine.connect() as conn:
        rows = conn.execute(q.order_by(S.deposits.c.created_at.desc(), S.deposits.c.id)).all()
    return LedgerOut(deposits=[LedgerRow(**svc.plain_wire("deposits", r)) for r in rows])

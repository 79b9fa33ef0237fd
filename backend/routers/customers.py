"""A customer with their deposit addresses, and their deposits."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from backend import schema as S
from backend import service as svc
from backend.deps import Agent, Db
from backend.responses import json_response
from backend.service import ServiceError

API = "/api/v1"
router = APIRouter()


@router.get(f"{API}/customers/{{customer_id}}", tags=["customers"])
def customer(customer_id: int, engine: Db, agent: Agent):
    with engine.connect() as conn:
        c = conn.execute(select(S.customers).where(S.customers.c.id == customer_id)).first()
        if c is None:
            raise ServiceError(404, "not_found", f"Customer {customer_id} does not exist.")
        addrs = conn.execute(select(S.deposit_addresses).where(S.deposit_addresses.c.customer_id == customer_id)).all()
    out = svc.plain_wire("customers", c)
    out["addresses"] = [svc.plain_wire("addresses", a) for a in addrs]
    return json_response(out)


@router.get(f"{API}/customers/{{customer_id}}/deposits", tags=["customers"])
def customer_deposits(customer_id: int, engine: Db, agent: Agent):
    with engine.connect() as conn:
        rows = conn.execute(select(S.deposits).where(S.deposits.c.customer_id == customer_id)
                            .order_by(S.deposits.c.created_at.desc())).all()
    return json_response({"deposits": [svc.plain_wire("deposits", r) for r in rows]})

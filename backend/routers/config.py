"""The desk's configuration clients read: asset/network rules and SLA policies."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from sqlalchemy import select

from backend import schema as S
from backend.deps import Agent, Db
from backend.responses import json_response

API = "/api/v1"
router = APIRouter()


@router.get(f"{API}/assets", tags=["config"])
def asset_config(engine: Db, agent: Agent):
    """The exchange's asset/network configuration: required confirmations, minimum deposits,
    memo rules and listed token contracts, per network."""
    with engine.connect() as conn:
        rows = conn.execute(select(S.assets.c.body).order_by(S.assets.c.network)).all()
    return json_response({"networks": [orjson.loads(r[0]) for r in rows]})


@router.get(f"{API}/sla-policies", tags=["config"])
def policies(engine: Db, agent: Agent):
    with engine.connect() as conn:
        rows = conn.execute(select(S.sla_policies).order_by(S.sla_policies.c.position)).all()
    return json_response({"policies": [orjson.loads(r.body) | {"id": r.id, "name": r.name, "position": r.position} for r in rows]})

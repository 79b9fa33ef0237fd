"""An agent's presence (online, away, ... and the ticket they have open)."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter
from pydantic import BaseModel

from agent_tui import vocabulary as V
from backend import service as svc
from backend.deps import Agent, Db

API = "/api/v1"
router = APIRouter()


class PresenceIn(BaseModel):
    presence: V.Presence
    ticket_id: Optional[int] = None


@router.post(f"{API}/presence", tags=["agents"])
def presence(body: PresenceIn, engine: Db, agent: Agent):
    with svc.write(engine) as conn:
        return svc.set_presence(conn, agent["id"], body.presence, body.ticket_id)

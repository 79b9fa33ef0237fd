"""Tickets: read one with its thread, create, edit (If-Match), claim, delete."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import select

from agent_tui import vocabulary as V
from backend import fields as F
from backend import schema as S
from backend import service as svc
from backend.deps import Agent, Db, IdempotencyKey, IfMatch, IfMatchRequired, Supervisor, require_if_match
from backend.idempotency import idempotent
from backend.responses import json_response

API = "/api/v1"
router = APIRouter()


class TicketPatch(BaseModel):
    status: Optional[V.Status] = None
    priority: Optional[V.Priority] = None
    queue: Optional[F.QueueId] = None
    tags: Optional[F.Tags] = None
    assignee_id: Optional[int] = None
    escalated: Optional[bool] = None


class TicketIn(BaseModel):
    subject: F.Subject
    queue: F.QueueId
    priority: V.Priority = "normal"
    channel: V.Channel = "email"
    requester_id: int
    body: F.Body
    language: F.LanguageCode = "en"
    tags: F.Tags = []


@router.get(f"{API}/tickets/{{ticket_id}}", tags=["tickets"])
def ticket(ticket_id: int, engine: Db, agent: Agent):
    with engine.connect() as conn:
        t = svc.get_ticket(conn, ticket_id)
        msgs = conn.execute(select(S.messages).where(S.messages.c.ticket_id == ticket_id).order_by(S.messages.c.created_at)).all()
    return json_response({"ticket": svc.ticket_wire(t), "messages": [svc.message_wire(m) for m in msgs]},
                         headers={"ETag": f'"{t.version}"'})


@router.post(f"{API}/tickets", status_code=201, tags=["tickets"])
def create(body: TicketIn, engine: Db, agent: Agent, idempotency_key: IdempotencyKey = None):
    def work(conn):
        t = svc.create_ticket(conn, subject=body.subject, queue=body.queue, priority=body.priority, channel=body.channel,
                              requester_id=body.requester_id, body=body.body, language=body.language, tags=body.tags)
        return 201, {"ticket": t}
    status, out = idempotent(engine, idempotency_key, agent, "POST", "/tickets", body.model_dump(), False, work)
    return json_response(out, status)


@router.patch(f"{API}/tickets/{{ticket_id}}", tags=["tickets"])
def patch(ticket_id: int, body: TicketPatch, engine: Db, agent: Agent, if_match: IfMatchRequired = None,
          idempotency_key: IdempotencyKey = None):
    version = require_if_match(if_match, "ticket")
    changes = body.model_dump(exclude_unset=True)

    def work(conn):
        t, prev = svc.update_ticket(conn, ticket_id, changes, if_match=version, agent_id=agent["id"])
        return 200, {"ticket": t, "previous_version": prev}
    status, out = idempotent(engine, idempotency_key, agent, "PATCH", f"/tickets/{ticket_id}", [changes, version], False, work)
    return json_response(out, status)


@router.post(f"{API}/tickets/{{ticket_id}}/claim", tags=["tickets"])
def claim(ticket_id: int, engine: Db, agent: Agent, if_match: IfMatch = None, idempotency_key: IdempotencyKey = None):
    """Claim an unassigned ticket. Atomic: of two agents claiming at once exactly one wins; the other gets 409."""
    def work(conn):
        t, prev = svc.claim_ticket(conn, ticket_id, agent["id"], if_match=if_match)
        return 200, {"ticket": t, "previous_version": prev}
    status, out = idempotent(engine, idempotency_key, agent, "POST", f"/tickets/{ticket_id}/claim", [if_match], False, work)
    return json_response(out, status)


@router.delete(f"{API}/tickets/{{ticket_id}}", tags=["tickets"])
def delete(ticket_id: int, engine: Db, agent: Supervisor, merged_into: Optional[int] = None):
    with svc.write(engine) as conn:
        svc.delete_ticket(conn, ticket_id, merged_into)
    return {"ok": True}
